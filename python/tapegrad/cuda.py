"""tapegrad.cuda, as torch.cuda answers on a machine without CUDA: this build has no CUDA backend,
so `device = tapegrad.device("cuda" if tapegrad.cuda.is_available() else "cpu")` picks the CPU."""


def is_available():
    return False


def device_count():
    return 0


def manual_seed(seed):
    """Seeds the CUDA generators: there are none, so nothing happens (as in PyTorch without CUDA)."""


def manual_seed_all(seed):
    """Seeds every CUDA generator: there are none, so nothing happens (as in PyTorch without CUDA)."""
