"""The main jobs' training. One epoch of the MLP: 784-128-10, batch 128, SGD with momentum 0.9,
60,000 samples of Fashion-MNIST's shape; both libraries run the same loop: shuffle, gather each
batch with one index, forward, cross-entropy, backward, step. One step of `--model lenet`'s
LeNet-5 at its batch of 64. Run with --threads 2 for the issues' figures. (Synthetic inputs: the
time does not depend on the pixel values.)"""
from bench.harness import Case

SAMPLES, FEATURES, HIDDEN, CLASSES, BATCH = 60_000, 784, 128, 10, 128


def one_epoch(lib):
    lib.manual_seed(0)
    images = lib.randn(SAMPLES, FEATURES)
    labels = lib.randint(0, CLASSES, (SAMPLES,))
    model = lib.nn.Sequential(lib.nn.Linear(FEATURES, HIDDEN), lib.nn.ReLU(), lib.nn.Linear(HIDDEN, CLASSES))
    loss_fn = lib.nn.CrossEntropyLoss()
    optimizer = lib.optim.SGD(model.parameters(), lr=0.02, momentum=0.9)

    def epoch():
        order = lib.randperm(SAMPLES)
        for start in range(0, SAMPLES, BATCH):
            index = order[start:start + BATCH]
            optimizer.zero_grad()
            loss = loss_fn(model(images[index]), labels[index])
            loss.backward()
            optimizer.step()

    return epoch


def lenet_step(lib):
    """tapegrad-train --model lenet's network and optimizer (tapegrad.train builds the same)."""
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84),
                          nn.ReLU(), nn.Linear(84, CLASSES))
    optimizer = lib.optim.SGD(model.parameters(), lr=0.04)
    images, labels = lib.randn(64, 1, 28, 28), lib.randint(0, CLASSES, (64,))

    def step():
        optimizer.zero_grad()
        lib.nn.functional.cross_entropy(model(images), labels).backward()
        optimizer.step()

    return step


CASES = [Case("one epoch 784-128-10, batch 128, SGD momentum", torchlike=one_epoch),
         Case("LeNet-5 training step, batch 64, SGD", torchlike=lenet_step)]
