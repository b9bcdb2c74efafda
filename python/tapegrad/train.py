"""``tapegrad-train``: train an MLP or LeNet-5 on Fashion-MNIST or MNIST and report test accuracy.

    tapegrad-train                                  # 784-128-10, SGD(0.02, momentum 0.9), 3 epochs
    tapegrad-train --hidden 256,128 --epochs 10 --save mlp.safetensors
    tapegrad-train --model lenet                    # LeNet-5, batch 64, SGD(0.04, momentum 0.9), cosine
    tapegrad-train --evaluate mlp.safetensors      # the architecture is read from the file
    mpiexec -n 4 tapegrad-train                     # data-parallel, on 4 processes
    python -m tapegrad --metrics run.csv --checkpoint-dir ckpt --plot run.png
    python -m tapegrad --checkpoint-dir ckpt --resume ckpt/last.safetensors --epochs 5

``--val-fraction`` of the training set (a permutation seeded with ``--seed``) is held out: each
epoch reports its loss and accuracy, and the best epoch by validation accuracy is kept as
``best.safetensors``; the test set is evaluated once, at the end. A checkpoint holds the model,
the optimizer, the scheduler (with ``--scheduler``), the epoch, the RNG state and the metrics so
far, so ``--resume`` continues with the next epoch and ends with the weights an uninterrupted run
has (each epoch's order is seeded with seed + epoch). Every file is written atomically.

The last line printed is always ``test accuracy: 0.XXXX``. Written as PyTorch code would be, so
it also documents the API it exercises.

Under ``mpiexec`` every rank trains on its shard of each epoch (DistributedSampler) with
``--batch-size`` divided among them, and DistributedDataParallel averages the gradients, so the run
equals a single-process one with the same global batch (up to float32 rounding). Only rank 0
prints, evaluates and writes files; every rank reads a --resume checkpoint.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import sys
import time

from ._atomic import atomic_write

DATASETS = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
# Each model's default batch size and learning rates, and the images per evaluation batch.
# The MLP's rates, measured with standardized inputs: SGD at 0.1 overshoots (0.80-0.84 after 3
# epochs), 0.02 reaches 0.86-0.87 over six seeds. LeNet-5's, test accuracy after 3 epochs (seed 0
# unless said): SGD at a constant rate stayed at 0.87-0.89 (batch 128 lr 0.05: 0.880; batch 64
# lr 0.05: 0.869, 0.02: 0.891 and 0.878 with seed 1, 0.01: 0.880; Adam 1e-3: 0.885), and the
# cosine schedule's low final rate gained a point: batch 64 lr 0.02: 0.891, lr 0.04: 0.893 and
# 0.891 with seed 1; batch 32 lr 0.02: 0.895 and 0.890 with seed 1. Its first convolution makes
# 6x28x28 floats of each image (19 MB per 1000), so it evaluates in smaller batches, which keeps
# the command's peak memory low; the MLP's activations are small.
MODEL_DEFAULTS = {
    "mlp": {"batch_size": 128, "lr": {"sgd": 0.02, "adam": 1e-3}, "scheduler": "none", "eval_batch": 10000},
    "lenet": {"batch_size": 64, "lr": {"sgd": 0.04, "adam": 1e-3}, "scheduler": "cosine", "eval_batch": 1000},
}
NUM_CLASSES = 10
NUM_FEATURES = 28 * 28
PROFILE_STEPS = 5  # what --profile records: enough steps to see the steady state, few enough to read
METRIC_FIELDS = ("epoch", "train_loss", "val_loss", "val_accuracy", "samples_per_second", "wall_time_s",
                 "learning_rate")
# The options a --resume checkpoint must agree with: they decide the weights an epoch produces.
RESUME_OPTIONS = ("dataset", "model", "hidden", "optimizer", "lr", "batch_size", "seed", "val_fraction", "scheduler")
# What a checkpoint written before an option existed was run with.
RESUME_OPTION_DEFAULTS = {"model": "mlp"}
# Phrases of the datasets' advice that speak Python; the command says them in its own options.
_CLI_WORDING = {
    "pass root=None (tapegrad-train without --data) to use $TAPEGRAD_DATA":
        "run without --data to use $TAPEGRAD_DATA",
    "pass it as root=... (tapegrad-train --data DIR)": "pass it as --data DIR",
}


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


def _fraction(text: str) -> float:
    return _checked(text, float, lambda value: 0 <= value < 1, "must be in [0, 1)", unparsable="must be a number")


def _seed(text: str) -> int:
    return _checked(text, int, lambda value: -(1 << 63) <= value < (1 << 64), "must be in [-2**63, 2**64)",
                    unparsable="must be an integer")


def _check_output(parser, option, path, example):
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        parser.error(f"{option} {path}: is a folder; give a file path such as {os.path.join(path, example)}")
    if not os.path.isdir(folder):
        parser.error(f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        parser.error(f"{option} {path}: folder {folder} is not writable")


def _check_paths(parser, args):
    """Fails before any work is done on a --data folder (or $TAPEGRAD_DATA) that isn't one, on an
    output path that could not be written once training has finished, and on --plot without
    matplotlib."""
    if args.data is not None and not os.path.isdir(args.data):
        parser.error(f"--data {args.data}: no such folder")
    environment_data = os.environ.get("TAPEGRAD_DATA")
    if args.data is None and environment_data and not os.path.isdir(os.path.expanduser(environment_data)):
        parser.error(f"TAPEGRAD_DATA={environment_data}: no such folder (unset it, or use --data DIR)")
    for option, path, example in (("--save", args.save, "mlp.safetensors"),
                                  ("--metrics", args.metrics, "metrics.csv"),
                                  ("--plot", args.plot, "curves.png")):
        if path is not None:
            _check_output(parser, option, path, example)
    if args.metrics is not None and os.path.splitext(args.metrics)[1].lower() not in (".csv", ".json"):
        parser.error(f"--metrics {args.metrics}: the suffix picks the format: .csv or .json")
    if args.plot is not None:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib, which is not installed: pip install 'tapegrad[plot]' "
                         "(or pip install matplotlib)")
    if args.checkpoint_dir is not None and os.path.exists(args.checkpoint_dir) \
            and not os.path.isdir(args.checkpoint_dir):
        parser.error(f"--checkpoint-dir {args.checkpoint_dir}: exists and is not a folder")
    if args.resume is not None and not os.path.isfile(args.resume):
        parser.error(f"--resume {args.resume}: no such file")


def parse_args(argv=None, prog="tapegrad-train"):
    parser = argparse.ArgumentParser(
        prog=prog, description="Train an MLP or LeNet-5 on Fashion-MNIST or MNIST with tapegrad.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--dataset", choices=sorted(DATASETS), default="fashion-mnist", help="which data set")
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="folder with the IDX files, used as given (None: $TAPEGRAD_DATA, "
                             "the cache, /usr/share/datasets, else download into the cache)")
    parser.add_argument("--epochs", type=_non_negative_int, default=3,
                        help="passes over the training set (0 evaluates the untrained model)")
    parser.add_argument("--batch-size", type=_positive_int, default=None,
                        help="global batch size (None: 128, 64 with --model lenet)")
    parser.add_argument("--model", choices=sorted(MODEL_DEFAULTS), default="mlp",
                        help="mlp (Linear/ReLU layers, see --hidden) or lenet (LeNet-5: conv 6@5x5 pad 2, "
                             "max pool, conv 16@5x5, max pool, 120, 84, 10, with ReLU)")
    parser.add_argument("--hidden", type=_hidden_sizes, default=None,
                        help="hidden layer sizes of --model mlp, comma separated, e.g. 256,128 (None: 128)")
    parser.add_argument("--optimizer", choices=("sgd", "adam"), default="sgd",
                        help="sgd (momentum 0.9) or adam")
    parser.add_argument("--lr", type=_learning_rate, default=None,
                        help="learning rate (None: 0.02 for sgd, 0.04 with --model lenet, 0.001 for adam)")
    parser.add_argument("--scheduler", choices=("none", "cosine"), default=None,
                        help="learning-rate schedule: constant, or cosine annealing over --epochs "
                             "(None: none, cosine with --model lenet)")
    parser.add_argument("--threads", type=_positive_int, default=None,
                        help="CPU threads for the kernels (None: the runtime's choice)")
    parser.add_argument("--seed", type=_seed, default=0, help="seeds the weights, the split and the order")
    parser.add_argument("--val-fraction", type=_fraction, default=0.1,
                        help="share of the training set held out for validation (0: none)")
    parser.add_argument("--save", metavar="PATH", default=None,
                        help="write the trained model's state dict here (safetensors)")
    parser.add_argument("--evaluate", metavar="CKPT", default=None,
                        help="only evaluate this saved model on the test set")
    parser.add_argument("--metrics", metavar="PATH", default=None,
                        help="write one row per epoch here (.csv or .json), rewritten after every epoch")
    parser.add_argument("--checkpoint-dir", metavar="DIR", default=None,
                        help="write last.safetensors and best.safetensors here after every epoch")
    parser.add_argument("--resume", metavar="CKPT", default=None,
                        help="continue the run a --checkpoint-dir checkpoint was saved from, at its next epoch")
    parser.add_argument("--plot", metavar="PATH", default=None,
                        help="draw the loss and accuracy curves into this PNG (needs matplotlib)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (there is none either when stderr is not a terminal)")
    parser.add_argument("--draw-graph", metavar="PATH", default=None,
                        help="save the graph of the first training step (.dot, .svg; .png/.pdf need Graphviz)")
    parser.add_argument("--profile", metavar="PATH", default=None,
                        help=f"write a Chrome trace of the first {PROFILE_STEPS} training steps (JSON)")
    args = parser.parse_args(argv)
    if args.hidden is not None and args.model != "mlp":
        parser.error(f"--hidden sets the layers of --model mlp; --model {args.model} has its own")
    if args.hidden is None and args.model == "mlp":
        args.hidden = [128]
    for option in ("batch_size", "scheduler"):
        if getattr(args, option) is None:
            setattr(args, option, MODEL_DEFAULTS[args.model][option])
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


def build_lenet():
    """LeNet-5 for 28x28 images given as rows of 784 pixels, as LeCun et al. (1998) with ReLU and
    max pooling in place of its scaled tanh and trainable subsampling (the common modern variant):
    conv 6@5x5 (padding 2, so 28x28 stays 28x28), 2x2 max pool, conv 16@5x5, 2x2 max pool, then
    Linear 400-120-84-10. State dict keys features.0.weight ... classifier.4.bias."""
    from tapegrad import nn

    class LeNet5(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                            nn.Linear(84, NUM_CLASSES))

        def forward(self, x):
            x = self.features(x.view(-1, 1, 28, 28))
            return self.classifier(x.flatten(1))

    return LeNet5()


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
        message = str(e)
        for python_wording, cli_wording in _CLI_WORDING.items():
            message = message.replace(python_wording, cli_wording)
        raise InputError(message) from None
    return split.data_numpy.reshape(len(split), -1), split.targets_numpy, split


def batch_tensors(split, images, labels):
    """(float32 inputs, int64 targets) tensors of one batch of uint8 images and labels."""
    import tapegrad

    return tapegrad.from_numpy(split.normalize(images)), tapegrad.from_numpy(labels)


def measure(model, split, images, labels, batch_size):
    """(mean cross-entropy loss, accuracy) of model on the images, batch_size at a time."""
    import tapegrad
    from tapegrad import nn

    model.eval()
    loss_fn = nn.CrossEntropyLoss()
    correct, total_loss = 0, 0.0
    with tapegrad.no_grad():
        for start in range(0, len(images), batch_size):
            inputs, targets = batch_tensors(split, images[start:start + batch_size], labels[start:start + batch_size])
            outputs = model(inputs)
            total_loss += loss_fn(outputs, targets).item() * int(targets.shape[0])
            correct += int((outputs.argmax(dim=1) == targets).sum().item())
    return total_loss / len(images), correct / len(images)


def evaluate(model, split, images, labels, batch_size) -> float:
    return measure(model, split, images, labels, batch_size)[1]


def validation_split(count: int, fraction: float, seed: int):
    """(training indices, validation indices) of a training set of count samples: the last
    round(count * fraction) of a permutation seeded with seed, each part in ascending order."""
    import numpy as np

    order = np.random.default_rng(seed % 2**64).permutation(count)
    held_out = round(count * fraction)
    return np.sort(order[:count - held_out]), np.sort(order[count - held_out:])


def make_optimizer(args, parameters):
    from tapegrad import optim

    lr = args.lr if args.lr is not None else MODEL_DEFAULTS[args.model]["lr"][args.optimizer]
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
    """(model, kind) saved at path: this command's LeNet-5 when its keys are LeNet-5's, else checked
    to be this command's MLP for 28x28 images and 10 classes; InputError with a one-line reason
    otherwise."""
    import tapegrad

    try:
        state = tapegrad.load(path)
    except OSError as e:
        raise InputError(f"cannot read checkpoint {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise InputError(f"not a valid checkpoint: {e}") from None  # e names the file
    lenet = build_lenet()
    if isinstance(state, dict) and set(state) == set(lenet.state_dict()):
        try:
            lenet.load_state_dict(state)
        except RuntimeError as e:
            raise InputError(f"{path} is not a checkpoint of this command's LeNet-5: " + " ".join(str(e).split())) \
                from None
        return lenet, "lenet"
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
    return model, "mlp"


def write_metrics(path, rows):
    """The rows so far, as CSV or JSON by path's suffix, replacing the file as a whole."""
    if path.lower().endswith(".json"):
        text = json.dumps(rows, indent=1) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=METRIC_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    with atomic_write(path, "w", encoding="utf-8") as f:
        f.write(text)


def plot_curves(path, rows):
    """Loss (train and validation) and validation accuracy against the epoch, as a PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    epochs = [row["epoch"] for row in rows]
    figure = Figure(figsize=(9, 3.5))
    FigureCanvasAgg(figure)
    losses, accuracies = figure.subplots(1, 2)
    losses.plot(epochs, [row["train_loss"] for row in rows], marker="o", label="train")
    if any(row["val_loss"] is not None for row in rows):
        losses.plot(epochs, [row["val_loss"] for row in rows], marker="o", label="validation")
        accuracies.plot(epochs, [row["val_accuracy"] for row in rows], marker="o", color="C1")
    losses.set(xlabel="epoch", ylabel="cross-entropy loss", title="loss")
    losses.legend()
    accuracies.set(xlabel="epoch", ylabel="accuracy", title="validation accuracy")
    figure.tight_layout()
    with atomic_write(path) as f:
        figure.savefig(f, format="png")


def _resume_options(args):
    return {name: getattr(args, name) for name in RESUME_OPTIONS}


def save_checkpoint(path, model, optimizer, scheduler, epoch, rows, best, args):
    import tapegrad

    tapegrad.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                   "scheduler": None if scheduler is None else scheduler.state_dict(),
                   "epoch": epoch, "rng_state": tapegrad.get_rng_state(), "metrics": rows, "best": best,
                   "options": _resume_options(args)}, path)


def read_resume_checkpoint(path, args):
    """The checkpoint a --checkpoint-dir run wrote at path, checked to come from a run with the
    same options; InputError otherwise."""
    import tapegrad

    try:
        state = tapegrad.load(path)
    except OSError as e:
        raise InputError(f"cannot read checkpoint {path}: {e.strerror or e}") from None
    except ValueError as e:
        raise InputError(f"not a valid checkpoint: {e}") from None
    keys = ("model", "optimizer", "scheduler", "epoch", "rng_state", "metrics", "best", "options")
    if not isinstance(state, dict) or any(key not in state for key in keys):
        raise InputError(f"--resume {path}: not a --checkpoint-dir checkpoint (it needs {', '.join(keys)})")
    saved = {name: state["options"].get(name, RESUME_OPTION_DEFAULTS.get(name)) for name in RESUME_OPTIONS}
    given = _resume_options(args)
    differing = [f"--{name.replace('_', '-')} {saved[name]!r} (given {given[name]!r})"
                 for name in RESUME_OPTIONS if saved[name] != given[name]]
    if differing:
        raise InputError(f"--resume {path}: the run was saved with " + ", ".join(differing)
                         + "; resume with the same options")
    return state


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
        model, kind = load_checkpoint(args.evaluate)
        test_x, test_y, test_split = load_split(args.dataset, args.data, train=False)
        return evaluate(model, test_split, test_x, test_y, MODEL_DEFAULTS[kind]["eval_batch"])
    if args.batch_size % world_size:
        raise InputError(f"--batch-size {args.batch_size} is the global batch: it must be a multiple of the "
                         f"{world_size} processes")

    # The data comes first: a missing data set is reported before anything else is set up.
    test_x, test_y, test_split = load_split(args.dataset, args.data, train=False)
    all_x, all_y, train_split = load_split(args.dataset, args.data, train=True)
    train_indices, val_indices = validation_split(len(all_y), args.val_fraction, args.seed)
    train_x, train_y = all_x[train_indices], all_y[train_indices]
    val_x, val_y = all_x[val_indices], all_y[val_indices]
    if len(train_y) == 0:
        raise InputError(f"--val-fraction {args.val_fraction} leaves no training samples of {len(all_y)}")

    from tapegrad import nn, optim
    from tapegrad.utils.data import DataLoader, DistributedSampler, TensorDataset
    from tqdm import tqdm

    # One seed for the initial weights; each epoch's order is a permutation seeded with seed + epoch,
    # which every rank draws alike and takes its shard of (one shard of one: the single-process run).
    tapegrad.manual_seed(args.seed)
    model = build_lenet() if args.model == "lenet" else build_model([NUM_FEATURES, *args.hidden, NUM_CLASSES])
    trained = model if world_size == 1 else nn.parallel.DistributedDataParallel(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = make_optimizer(args, trained.parameters())
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, max(args.epochs, 1)) \
        if args.scheduler == "cosine" else None
    rows, best, first_epoch = [], None, 1
    if args.resume:
        state = read_resume_checkpoint(args.resume, args)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None:
            scheduler.load_state_dict(state["scheduler"])
        tapegrad.set_rng_state(state["rng_state"])
        rows, best, first_epoch = list(state["metrics"]), state["best"], state["epoch"] + 1
    dataset = TensorDataset(train_x, train_y)
    # Modulo 2**63: seed + epoch must stay a valid seed for the largest --seed.
    sampler = DistributedSampler(dataset, world_size, rank, shuffle=True, seed=args.seed % 2**63)
    loader = DataLoader(dataset, batch_size=args.batch_size // world_size, sampler=sampler)
    writes_files = rank == 0
    if args.checkpoint_dir and writes_files:
        os.makedirs(args.checkpoint_dir, exist_ok=True)
    if args.draw_graph and writes_files:
        images, labels = next(iter(loader))
        draw_first_step(model, *batch_tensors(train_split, images, labels), args.draw_graph, loss_fn)
        print(f"saved the graph of one training step to {args.draw_graph}", flush=True)
    # A redirected stderr gets no bar: tqdm would write a line per refresh into the log.
    show_progress = not args.no_progress and writes_files and sys.stderr.isatty()
    for epoch in range(first_epoch, args.epochs + 1):
        started = time.perf_counter()
        learning_rate = optimizer.param_groups[0]["lr"]
        sampler.set_epoch(epoch)
        with tqdm(total=len(loader), desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                  disable=not show_progress, leave=False, file=sys.stderr) as progress:
            profile_path = args.profile if epoch == first_epoch and writes_files else None
            loss, rate = train_epoch(trained, train_split, loader, loss_fn, optimizer, progress, world_size,
                                     profile_path)
        if scheduler is not None:
            scheduler.step()
        if not writes_files:
            continue
        val_loss, val_accuracy = measure(model, train_split, val_x, val_y, MODEL_DEFAULTS[args.model]["eval_batch"]) \
            if len(val_y) else (None, None)
        rows.append({"epoch": epoch, "train_loss": loss, "val_loss": val_loss, "val_accuracy": val_accuracy,
                     "samples_per_second": rate, "wall_time_s": time.perf_counter() - started,
                     "learning_rate": learning_rate})
        validation = "" if val_loss is None else f", val loss {val_loss:.4f}, val accuracy {val_accuracy:.4f}"
        print(f"epoch {epoch}/{args.epochs}: train loss {loss:.4f}{validation}, {rate:,.0f} samples/s", flush=True)
        # The best epoch: highest validation accuracy, or lowest training loss without a split.
        score = val_accuracy if val_accuracy is not None else -loss
        improved = best is None or score > best
        best = score if improved else best
        try:
            if args.checkpoint_dir:
                last = os.path.join(args.checkpoint_dir, "last.safetensors")
                save_checkpoint(last, model, optimizer, scheduler, epoch, rows, best, args)
                if improved:
                    save_checkpoint(os.path.join(args.checkpoint_dir, "best.safetensors"), model, optimizer,
                                    scheduler, epoch, rows, best, args)
            if args.metrics:
                write_metrics(args.metrics, rows)
        except OSError as e:
            raise InputError(f"cannot write {e.filename or args.checkpoint_dir}: {e.strerror or e}") from None
    if rank != 0:
        return None
    if args.plot:
        plot_curves(args.plot, rows)
        print(f"saved the curves to {args.plot}", flush=True)
    if args.save:
        try:
            tapegrad.save(model.state_dict(), args.save)
        except OSError as e:
            raise InputError(f"cannot write {args.save}: {e.strerror or e}") from None
        print(f"saved model to {args.save}", flush=True)
    return evaluate(model, test_split, test_x, test_y, MODEL_DEFAULTS[args.model]["eval_batch"])


def main(argv=None, prog="tapegrad-train") -> int:
    args = parse_args(argv, prog)
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
