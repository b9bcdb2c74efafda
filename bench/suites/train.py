"""One epoch of the main job's training: a 784-128-10 MLP, batch 128, SGD with momentum 0.9,
60,000 samples of Fashion-MNIST's shape. Both libraries run the same loop: shuffle, gather each
batch with one index, forward, cross-entropy, backward, step. Run with --threads 2 for the
issue's figure. (Synthetic inputs: time per epoch does not depend on the pixel values.)"""
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


CASES = [Case("one epoch 784-128-10, batch 128, SGD momentum", torchlike=one_epoch)]
