"""The main job written with PyTorch, for side-by-side measurements: Fashion-MNIST, 784-128-10,
batch 128, SGD lr 0.02 momentum 0.9, shuffled batches gathered with one index, images kept as
uint8 and normalized per batch, as tapegrad-train does. The IDX files are read with
tapegrad.datasets (NumPy only), so both read the same arrays."""
import argparse
import time

import torch

from tapegrad.datasets import FashionMNIST


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train, test = FashionMNIST(train=True), FashionMNIST(train=False)
    train_x, train_y = train.data_numpy.reshape(len(train), -1), torch.from_numpy(train.targets_numpy)
    test_x = torch.from_numpy(test.normalize(test.data_numpy))
    test_y = torch.from_numpy(test.targets_numpy)
    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)
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
        with torch.no_grad():
            accuracy = (model(test_x).argmax(1) == test_y).float().mean().item()
        print(f"epoch {epoch + 1}: {time.perf_counter() - start:.2f} s, test accuracy {accuracy:.4f}")
    print(f"test accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
