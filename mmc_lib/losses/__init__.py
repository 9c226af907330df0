"""Loss terms shared by the deep methods, one module per family: DDC (``ddc``), InfoNCE (``contrastive``),
mutual-information bounds (``mutual_information``) and DEC's assignments (``dec``)."""
