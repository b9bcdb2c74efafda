"""``tapegrad-train``: train an MLP on Fashion-MNIST or MNIST and report test accuracy.

    tapegrad-train                                  # 784-128-10, SGD(0.02, momentum 0.9), 3 epochs
    tapegrad-train --hidden 256,128 --epochs 10 --save mlp.safetensors
    tapegrad-train --evaluate mlp.safetensors      # the architecture is read from the file
    mpiexec -n 4 tapegrad-train                     # data-parallel, on 4 processes

The last line printed is always ``test accuracy: 0.XXXX``. Written as PyTorch code would be, so
it also documents the API it exercises.

Under ``mpiexec`` every rank trains on its shard of each epoch (DistributedSampler) with
``--batch-size`` divided among them, and DistributedDataParallel averages the gradients, so the run
equals a single-process one with the same global batch (up to float32 rounding). Only rank 0
prints, evaluates and saves.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

DATASETS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
# Measured with standardized inputs: SGD at 0.1 overshoots (0.80-0.84 after 3 epochs), 0.02
# reaches 0.86-0.87 over six seeds.
DEFAULT_LR = {"sgd": 0.02, "adam": 1e-3}
EVAL_BATCH = 10000
NUM_CLASSES = 10
NUM_FEATURES = 28 * 28
PROFILE_STEPS = 5  # what --profile records: enough steps to see the steady state, few enough to read


def _hidden_sizes(text: str):
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"takes sizes like 128 or 256,128, got {text!r}") from None
    if any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive, got {text!r}")
    return sizes


def _checked(text: str, convert, is_valid, requirement: str, unparsable: str | None = None):
    """``convert(text)`` when it parses and passes ``is_valid``; otherwise the argparse error
    "<requirement>, got <text>" (with ``unparsable`` in place of the requirement, where given, for
    text that does not parse at all)."""
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{unparsable or requirement}, got {text!r}") from None
    if not is_valid(value):
        raise argparse.ArgumentTypeError(f"{requirement}, got {text}")
    return value


def _positive_int(text: str) -> int:
    return _checked(text, int, lambda value: value >= 1, "must be a positive integer")


def _non_negative_int(text: str) -> int:
    return _checked(text, int, lambda value: value >= 0, "must be a non-negative integer")


def _learning_rate(text: str) -> float:
    return _checked(text, float, lambda value: math.isfinite(value) and value > 0, "must be a positive finite number",
                    unparsable="must be a positive number")


def _seed(text: str) -> int:
    return _checked(text, int, lambda value: -(1 << 63) <= value < (1 << 64), "must be in [-2**63, 2**64)",
                    unparsable="must be an integer")


def _check_paths(parser, args):
    """Fails before any work is done on a --data folder that isn't one, and on a --save path that
    could not be written once training has finished."""
    if args.data is not None and not os.path.isdir(args.data):
        parser.error(f"--data {args.data}: no such folder")
    if args.save is not None:
        folder = os.path.dirname(os.path.abspath(args.save))
        if os.path.isdir(args.save):
            parser.error(f"--save {args.save}: is a folder; give a file path such as {args.save}/mlp.safetensors")
        if not os.path.isdir(folder):
            parser.error(f"--save {args.save}: folder {folder} does not exist")
        if not os.access(folder, os.W_OK):
            parser.error(f"--save {args.save}: folder {folder} is not writable")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        prog="tapegrad-train", description="Train an MLP on Fashion-MNIST or MNIST with tapegrad.")
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="fashion-mnist")
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="folder with the IDX files, used as given (default: $TAPEGRAD_DATA, "
                             "the cache, /usr/share/datasets, else download into the cache)")
    parser.add_argument("--epochs", type=_non_negative_int, default=3,
                        help="passes over the training set (0 evaluates the untrained model)")
    parser.add_argument("--batch-size", type=_positive_int, default=128)
    parser.add_argument("--hidden", type=_hidden_sizes, default=[128],
                        help="hidden layer sizes, comma separated (default 128)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                        help="sgd (momentum 0.9) or adam (default sgd)")
    parser.add_argument("--lr", type=_learning_rate, default=None,
                        help="learning rate (default 0.02 for sgd, 0.001 for adam)")
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="CPU threads for the kernels (default: the runtime's choice)")
    parser.add_argument("--seed", type=_seed, default=0)
    parser.add_argument("--save", metavar="PATH", default=None,
                        help="write the trained model's state dict here (safetensors)")
    parser.add_argument("--evaluate", metavar="CKPT", default=None,
                        help="only evaluate this saved model on the test set")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--draw-graph", metavar="PATH", default=None,
                        help="save the graph of the first training step (.dot, .svg; .png/.pdf need Graphviz)")
    parser.add_argument("--profile", metavar="PATH", default=None,
                        help=f"write a Chrome trace of the first {PROFILE_STEPS} training steps (JSON)")
    args = parser.parse_args(argv)
    _check_paths(parser, args)
    return args


def build_model(sizes):
    """Linear/ReLU stack through sizes, e.g. [784, 128, 10]; state dict keys 0.weight, 2.weight..."""
    from tapegrad import nn

    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def sizes_from_state_dict(state):
    """The layer sizes of a model saved by build_model, read off its weight shapes; ValueError
    naming the entry for anything else."""
    if not isinstance(state, dict) or not state:
        raise ValueError("it holds no state dict of tensors")
    layers = {}
    for key, value in state.items():
        index, _, kind = str(key).partition(".")
        if not index.isdigit() or kind not in ("weight", "bias") or not hasattr(value, "shape"):
            raise ValueError(f"unexpected entry {key!r} (this command's MLP has only <index>.weight and "
                             "<index>.bias tensors)")
        layers.setdefault(int(index), {})[kind] = tuple(int(d) for d in value.shape)
    indices = sorted(layers)
    if indices != list(range(0, 2 * len(indices), 2)):
        raise ValueError(f"layer indices {indices} are not 0, 2, 4, ... (Linear layers with a ReLU between)")
    sizes = []
    for index in indices:
        weight, bias = layers[index].get("weight"), layers[index].get("bias")
        if weight is None or bias is None:
            raise ValueError(f"layer {index} lacks its {'weight' if weight is None else 'bias'}")
        if len(weight) != 2 or bias != weight[:1]:
            raise ValueError(f"layer {index} has weight {weight} and bias {bias}; a Linear layer needs "
                             "(out, in) and (out,)")
        if sizes and weight[1] != sizes[-1]:
            raise ValueError("checkpoint layers do not chain: "
                             + ", ".join(str(layers[i]["weight"]) for i in indices))
        sizes += [weight[1], weight[0]] if not sizes else [weight[0]]
    return sizes


class InputError(Exception):
    """A data set or checkpoint the command cannot use; main prints it without a traceback."""


def load_split(dataset: str, data_dir, train: bool):
    """The split as (uint8 images (N, 784), int64 labels (N,)) NumPy arrays, and the dataset.

    Images stay uint8 in memory (a quarter of float32) and are normalized batch by batch with
    dataset.normalize, which keeps the command's peak memory low.
    """
    from tapegrad import datasets

    try:
        # An explicit --data folder is used as given: nothing is downloaded into it.
        split = getattr(datasets, DATASETS[dataset])(root=data_dir, train=train, download=data_dir is None)
    except (FileNotFoundError, ValueError) as e:
        raise InputError(str(e)) from None
    return split.data_numpy.reshape(len(split), -1), split.targets_numpy, split


def batch_tensors(split, images, labels):
    """(float32 inputs, int64 targets) tensors of one batch of uint8 images and labels."""
    import tapegrad

    return tapegrad.from_numpy(split.normalize(images)), tapegrad.from_numpy(labels)


def evaluate(model, split, images, labels) -> float:
    import tapegrad

    model.eval()
    correct = 0
    with tapegrad.no_grad():
        for start in range(0, len(images), EVAL_BATCH):
            inputs, targets = batch_tensors(split, images[start:start + EVAL_BATCH], labels[start:start + EVAL_BATCH])
            predicted = model(inputs).argmax(dim=1)
            correct += int((predicted == targets).sum().item())
    return correct / len(images)


def make_optimizer(args, parameters):
    from tapegrad import optim

    lr = args.lr if args.lr is not None else DEFAULT_LR[args.optimizer]
    if args.optimizer == "adam":
        return optim.Adam(parameters, lr=lr)
    return optim.SGD(parameters, lr=lr, momentum=0.9)


def draw_first_step(model, inputs, targets, path, loss_fn=None):
    """Saves the graph that one training step records (forward and loss) to ``path``."""
    from tapegrad import nn, viz

    loss = (loss_fn or nn.CrossEntropyLoss())(model(inputs), targets)
    viz.make_dot(loss, params=dict(model.named_parameters())).save(path)


def train_epoch(model, split, loader, loss_fn, optimizer, progress, world_size=1, profile_path=None):
    """One pass over loader; returns (mean loss, samples per second), over all ranks. With
    ``profile_path``, the first PROFILE_STEPS steps are profiled into a Chrome trace there."""
    from tapegrad import profiler

    model.train()
    total_loss, seen = 0.0, 0
    start = time.perf_counter()
    recording = profiler.profile(record_shapes=True) if profile_path else None
    if recording:
        recording.start()
    for step, (images, labels) in enumerate(loader):
        inputs, targets = batch_tensors(split, images, labels)
        optimizer.zero_grad()
        loss = loss_fn(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if recording and step + 1 == PROFILE_STEPS:
            recording.stop()
            recording.export_chrome_trace(profile_path)
            recording = None
        batch = int(targets.shape[0])
        total_loss += loss.item() * batch
        seen += batch
        progress.update(1)
        if step % 20 == 0:
            rate = seen / max(time.perf_counter() - start, 1e-9)
            progress.set_postfix({"loss": f"{total_loss / seen:.4f}",
                                  "samples/s": f"{rate:,.0f}"})
    if recording:  # an epoch shorter than PROFILE_STEPS
        recording.stop()
        recording.export_chrome_trace(profile_path)
    if world_size > 1:
        import tapegrad
        from tapegrad import distributed as dist

        totals = tapegrad.tensor([total_loss, seen], dtype=tapegrad.float64)
        dist.all_reduce(totals)
        total_loss, seen = totals.tolist()
    elapsed = max(time.perf_counter() - start, 1e-9)
    return total_loss / max(seen, 1), seen / elapsed


def load_checkpoint(path):
    """The model saved at path, checked to be this command's MLP for 28x28 images and 10 classes;
    InputError with a one-line reason otherwise."""
    import tapegrad

    try:
        state = tapegrad.load(path)
    except OSError as e:
        raise InputError(f"cannot read checkpoint {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise InputError(f"not a valid checkpoint: {e}") from None  # e names the file
    try:
        sizes = sizes_from_state_dict(state)
    except ValueError as e:
        raise InputError(f"{path} is not a checkpoint of this command's MLP: {e}") from None
    if sizes[0] != NUM_FEATURES or sizes[-1] != NUM_CLASSES:
        raise InputError(f"{path}: the model maps {sizes[0]} inputs to {sizes[-1]} outputs; the test set "
                         f"needs {NUM_FEATURES} inputs (28x28 images) and {NUM_CLASSES} outputs (classes)")
    model = build_model(sizes)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise InputError(f"{path}: " + " ".join(str(e).split())) from None
    return model


def launched_by_mpiexec() -> bool:
    """Whether an MPI launcher started this process (MPICH's Hydra and Open MPI set these)."""
    return any(name in os.environ for name in ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK"))


def run(args, rank=0, world_size=1):
    """Rank 0's test accuracy (None on the other ranks)."""
    import tapegrad

    if args.threads is not None:
        tapegrad.set_num_threads(args.threads)
    if args.evaluate:
        if rank != 0:
            return None
        model = load_checkpoint(args.evaluate)
        test_x, test_y, test_split = load_split(args.dataset, args.data, train=False)
        return evaluate(model, test_split, test_x, test_y)
    if args.batch_size % world_size:
        raise InputError(f"--batch-size {args.batch_size} is the global batch: it must be a multiple of the "
                         f"{world_size} processes")

    # The data comes first: a missing data set is reported before anything else is set up.
    test_x, test_y, test_split = load_split(args.dataset, args.data, train=False)
    train_x, train_y, train_split = load_split(args.dataset, args.data, train=True)

    from tapegrad import nn
    from tapegrad.utils.data import DataLoader, DistributedSampler, TensorDataset
    from tqdm import tqdm

    # One seed for the initial weights; each epoch's order is a permutation seeded with seed + epoch,
    # which every rank draws alike and takes its shard of (one shard of one: the single-process run).
    tapegrad.manual_seed(args.seed)
    model = build_model([NUM_FEATURES, *args.hidden, NUM_CLASSES])
    trained = model if world_size == 1 else nn.parallel.DistributedDataParallel(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = make_optimizer(args, trained.parameters())
    dataset = TensorDataset(train_x, train_y)
    # Modulo 2**63: seed + epoch must stay a valid seed for the largest --seed.
    sampler = DistributedSampler(dataset, world_size, rank, shuffle=True, seed=args.seed % 2**63)
    loader = DataLoader(dataset, batch_size=args.batch_size // world_size, sampler=sampler)
    accuracy = None
    if args.draw_graph and rank == 0:
        images, labels = next(iter(loader))
        draw_first_step(model, *batch_tensors(train_split, images, labels), args.draw_graph, loss_fn)
        print(f"saved the graph of one training step to {args.draw_graph}", flush=True)
    if args.epochs < 1 and rank == 0:
        accuracy = evaluate(model, test_split, test_x, test_y)
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        with tqdm(total=len(loader), desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                  disable=args.no_progress or rank != 0, leave=False, file=sys.stderr) as progress:
            profile_path = args.profile if epoch == 1 and rank == 0 else None
            loss, rate = train_epoch(trained, train_split, loader, loss_fn, optimizer, progress, world_size,
                                     profile_path)
        if rank == 0:
            accuracy = evaluate(model, test_split, test_x, test_y)
            print(f"epoch {epoch}/{args.epochs}: train loss {loss:.4f}, "
                  f"test accuracy {accuracy:.4f}, {rate:,.0f} samples/s", flush=True)
    if args.save and rank == 0:
        try:
            tapegrad.save(model.state_dict(), args.save)
        except OSError as e:
            raise InputError(f"cannot write {args.save}: {e.strerror or e}") from None
        print(f"saved model to {args.save}", flush=True)
    return accuracy


def main(argv=None) -> int:
    args = parse_args(argv)
    rank, world_size = 0, 1
    if launched_by_mpiexec():
        from tapegrad import distributed as dist

        if not dist.is_initialized():
            dist.init_process_group("mpi")
        rank, world_size = dist.get_rank(), dist.get_world_size()
    try:
        accuracy = run(args, rank, world_size)
    except InputError as e:
        print(f"tapegrad-train: {e}", file=sys.stderr, flush=True)
        if world_size > 1:
            # The other ranks may be waiting for this one in a collective: end the whole job.
            from mpi4py import MPI

            MPI.COMM_WORLD.Abort(1)
        return 1
    if rank == 0:
        print(f"test accuracy: {accuracy:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
