"""tapegrad.accelerator, as torch.accelerator answers on a machine without one: this build runs on
the CPU only, so `tapegrad.accelerator.current_accelerator()` is None and code that falls back to
the CPU when there is no accelerator does so."""


def is_available():
    """Whether an accelerator (CUDA, MPS, ...) can be used: never in this CPU-only build."""
    return False


def current_accelerator(check_available=False):
    """The accelerator's device, or None when there is none (always, in this CPU-only build)."""
    return None


def device_count():
    """The number of accelerator devices: 0."""
    return 0
