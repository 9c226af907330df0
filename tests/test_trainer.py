"""The shared training loop's own options (mmc_lib.nn.trainer): gradient clipping, and a loop run by steps."""

import torch

from mmc_lib.nn import Hooks, adam, train


def _problem():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x, y = torch.randn(16, 4), 10 * torch.randn(16, 1)  # large targets: gradients far above the clip norm
    return net, x, y


def _loss(net, x, y):
    return lambda batch, epoch: {"total": ((net(x[batch]) - y[batch]) ** 2).mean()}


def test_grad_clip_is_torchs_clip_before_each_step():
    """``train(grad_clip=c)`` gives bit for bit the weights of the hand-written loop that clips to ``c`` before each
    Adam step, and clipping does change the weights here (the check can fail)."""
    batches = [torch.arange(0, 8), torch.arange(8, 16)]
    net, x, y = _problem()
    train(_loss(net, x, y), adam(net.parameters(), lr=0.1), lambda: batches, 3, grad_clip=0.5)
    ref, _, _ = _problem()
    opt = adam(ref.parameters(), lr=0.1)
    for _ in range(3):
        for b in batches:
            opt.zero_grad(set_to_none=True)
            ((ref(x[b]) - y[b]) ** 2).mean().backward()
            torch.nn.utils.clip_grad_norm_(ref.parameters(), 0.5)
            opt.step()
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), ref.parameters()))
    free, _, _ = _problem()
    train(_loss(free, x, y), adam(free.parameters(), lr=0.1), lambda: batches, 3)
    assert not all(torch.equal(a, b) for a, b in zip(net.parameters(), free.parameters()))


def test_a_loop_by_steps_sees_each_step_in_on_epoch():
    """One drawn batch per epoch (TreeDiffusion's denoiser): ``on_epoch`` gets every step's number and its exact loss,
    after the step and without gradients."""
    net, x, y = _problem()
    gen = torch.Generator().manual_seed(1)
    seen = []

    def after(step, record):
        seen.append((step, record.get("total"), torch.is_grad_enabled()))

    hist = train(_loss(net, x, y), adam(net.parameters(), lr=0.01),
                 lambda: [torch.randint(0, 16, (4,), generator=gen)], 5, hooks=Hooks(on_epoch=after))
    assert [s for s, _, _ in seen] == [0, 1, 2, 3, 4, 5] and not any(g for _, _, g in seen)
    assert [t for _, t, _ in seen[1:]] == [r["total"] for r in hist]
