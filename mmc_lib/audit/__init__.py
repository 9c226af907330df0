"""The audit, in three parts: the ledger of the papers' claims (:mod:`~mmc_lib.audit.ledger`), the grader that
decides every verdict (:mod:`~mmc_lib.audit.grade`) and the report a reader sees — AUDIT.md, tables, the plot
(:mod:`~mmc_lib.audit.report`)."""

from mmc_lib.audit.grade import (AuditReport, NotebookVerdicts, Tolerance, audit_claims, check_orderings,
                                 check_paper_consistency, grade_notebook, kind_counts, load_profile_results,
                                 run_audit, verdict_counts, welch)
from mmc_lib.audit.ledger import claims_dir, claims_frame, load_ledger, load_ledgers
from mmc_lib.audit.report import (audit_markdown, audit_path, display_table, headline, own_paper_table,
                                  plot_claims_vs_ours, plot_verdict_counts, show_verdicts, status_markdown, status_table,
                                  summary_markdown, write_audit, write_status)

__all__ = ["AuditReport", "NotebookVerdicts", "Tolerance", "audit_claims", "check_orderings",
           "check_paper_consistency", "grade_notebook", "kind_counts", "load_profile_results", "run_audit",
           "verdict_counts", "welch", "headline", "show_verdicts", "summary_markdown",
           "claims_dir", "claims_frame", "load_ledger", "load_ledgers", "audit_markdown", "audit_path",
           "display_table", "own_paper_table", "plot_claims_vs_ours", "plot_verdict_counts", "write_audit", "status_table", "status_markdown", "write_status"]
