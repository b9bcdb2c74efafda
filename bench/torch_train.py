"""The main job written with PyTorch, for side-by-side measurements: Fashion-MNIST, 784-128-10,
batch 128, SGD lr 0.02 momentum 0.9, shuffled batches gathered with one index, images kept as
uint8 and normalized per batch, as tapegrad-train does. The IDX files are read with
tapegrad.datasets (NumPy only), so both read the same arrays. --model lenet is
`tapegrad-train --model lenet`'s LeNet-5 (SGD lr 0.04, cosine annealing over --epochs; pass
--batch-size 64, its default there), evaluated in batches of 1000 as there."""
import argparse
import time

import torch

from tapegrad.datasets import FashionMNIST


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--model", choices=("mlp", "lenet"), default="mlp")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    train_x, train_y = train.data_numpy.reshape(len(train), -1), torch.from_numpy(train.targets_numpy)
    test_x = torch.from_numpy(test.normalize(test.data_numpy))
    test_y = torch.from_numpy(test.targets_numpy)
    nn = torch.nn
    if args.model == "lenet":
        model = nn.Sequential(nn.Unflatten(1, (1, 28, 28)), nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))
    else:
        model = nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10))
    eval_batch = 1000 if args.model == "lenet" else len(test_x)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.04 if args.model == "lenet" else 0.02, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, args.epochs) if args.model == "lenet" else None
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(train_x))
        for first in range(0, len(train_x), args.batch_size):
            index = order[first:first + args.batch_size]
            optimizer.zero_grad()
            inputs = torch.from_numpy(train.normalize(train_x[index.numpy()]))
            loss = loss_fn(model(inputs), train_y[index])
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        with torch.no_grad():
            correct = sum(int((model(test_x[first:first + eval_batch]).argmax(1)
                               == test_y[first:first + eval_batch]).sum())
                          for first in range(0, len(test_x), eval_batch))
            accuracy = correct / len(test_x)
        print(f"epoch {epoch + 1}: {time.perf_counter() - start:.2f} s, test accuracy {accuracy:.4f}")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
