"""Peak resident memory of the training command against the same training in PyTorch.

    python bench/train_memory.py [--epochs 1] [--threads 2] [--model mlp|lenet]

Runs `python -m tapegrad.train` and bench/torch_train.py (the same model, data, batch size,
optimizer and loop written with torch) as child processes, one after the other, and prints each
one's peak RSS (ru_maxrss) and their ratio. Needs the Fashion-MNIST files (see README).
"""
import argparse
import os
import pathlib
import resource
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def peak_rss_mib(command):
    """Peak RSS of one child process, in MiB (each measurement in a fresh grandchild)."""
    probe = (
        "import resource, subprocess, sys; "
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    output = subprocess.run([sys.executable, "-c", probe, *command], check=True, capture_output=True, text=True)
    return int(output.stdout.strip()) / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", choices=("mlp", "lenet"), default="mlp")
    args = parser.parse_args()
    batch_size = 64 if args.model == "lenet" else 128  # the training command's defaults
    common = ["--epochs", str(args.epochs), "--threads", str(args.threads), "--model", args.model,
              "--batch-size", str(batch_size)]
    ours = peak_rss_mib([sys.executable, "-m", "tapegrad.train", "--no-progress", *common])
    theirs = peak_rss_mib([sys.executable, str(HERE / "torch_train.py"), *common])
    print(f"command: python bench/train_memory.py --epochs {args.epochs} --threads {args.threads} --model {args.model}")
    print(f"peak RSS  tapegrad-train: {ours:8.1f} MiB")
    print(f"peak RSS  torch training: {theirs:8.1f} MiB")
    print(f"ratio tapegrad/torch:     {ours / theirs:8.2f}  (lower is better)")


if __name__ == "__main__":
    main()
