"""Porting: a typical PyTorch MLP training script, written once against the library module, runs
with torch and with tapegrad (the import being the only difference) and learns as well with both.
"""
import copy

import numpy as np
import torch

import tapegrad

SAMPLES, FEATURES, CLASSES = 900, 20, 3


def synthetic_data():
    """Three overlapping Gaussian blobs in 20 dimensions (about 93% separable); the same arrays for
    both libraries."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=0.6, size=(CLASSES, FEATURES))
    labels = rng.integers(0, CLASSES, SAMPLES)
    features = centres[labels] + rng.normal(size=(SAMPLES, FEATURES))
    return features.astype(np.float32), labels.astype(np.int64)


def training_script(torch, features, labels, checkpoint):
    """What a PyTorch user writes; `torch` is whichever library module the test passes in."""
    nn = torch.nn
    F = torch.nn.functional
    DataLoader, TensorDataset = torch.utils.data.DataLoader, torch.utils.data.TensorDataset

    torch.manual_seed(0)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    class MLP(nn.Module):
        def __init__(self, n_in, n_hidden, n_out, p=0.1):
            super().__init__()
            self.fc1 = nn.Linear(n_in, n_hidden)
            self.dropout = nn.Dropout(p)
            self.fc2 = nn.Linear(n_hidden, n_out)

        def forward(self, x):
            x = F.relu(self.fc1(x))
            return self.fc2(self.dropout(x))

    X = torch.from_numpy(features)
    y = torch.from_numpy(labels)
    X_train, y_train, X_test, y_test = X[:700], y[:700], X[700:], y[700:]
    train_loader = DataLoader(TensorDataset(X_train, y_train), batch_size=32, shuffle=True)

    results = {}
    for name in ("adam", "sgd"):
        model = MLP(X.size(1), 64, int(y.max().item()) + 1).to(device)
        if name == "adam":
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        else:
            optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
        criterion = nn.CrossEntropyLoss()
        best_accuracy, best_state = 0.0, None
        for epoch in range(8):
            model.train()
            running_loss = 0.0
            for inputs, targets in train_loader:
                inputs, targets = inputs.to(device), targets.to(device)
                optimizer.zero_grad()
                loss = criterion(model(inputs), targets)
                loss.backward()
                optimizer.step()
                running_loss += loss.item() * inputs.size(0)
            scheduler.step()
            model.eval()
            with torch.no_grad():
                predictions = model(X_test.to(device)).argmax(1)
                accuracy = (predictions == y_test.to(device)).float().mean().item()
            if accuracy >= best_accuracy:
                best_accuracy, best_state = accuracy, copy.deepcopy(model.state_dict())
        train_loss = running_loss / len(train_loader.dataset)

        # Save and reload, and keep an independent copy of the model.
        torch.save(model.state_dict(), checkpoint)
        restored = MLP(X.size(1), 64, int(y.max().item()) + 1)
        restored.load_state_dict(torch.load(checkpoint))
        restored.eval()
        snapshot = copy.deepcopy(model)
        with torch.no_grad():
            same_after_reload = bool((restored(X_test) == model(X_test)).all().item())
            model.fc1.weight.zero_()
            copy_is_independent = bool(snapshot.fc1.weight.abs().sum().item() > 0)
        model.load_state_dict(best_state)
        results[name] = dict(train_loss=train_loss, best_accuracy=best_accuracy, lr=scheduler.get_last_lr()[0],
                             same_after_reload=same_after_reload, copy_is_independent=copy_is_independent,
                             state_keys=list(best_state))
    return results


def test_typical_pytorch_script_runs_with_both_libraries_and_learns_as_well(tmp_path):
    # One torch thread: its thread pool only slows these small ops down on a shared machine.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_both_and_compare(tmp_path)
    finally:
        torch.set_num_threads(previous)


def run_both_and_compare(tmp_path):
    features, labels = synthetic_data()
    theirs = training_script(torch, features, labels, tmp_path / "torch.pt")
    ours = training_script(tapegrad, features, labels, tmp_path / "tapegrad.safetensors")
    for name in ("adam", "sgd"):
        mine, reference = ours[name], theirs[name]
        assert mine["same_after_reload"] and mine["copy_is_independent"]
        assert mine["state_keys"] == reference["state_keys"] == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
        assert mine["lr"] == reference["lr"]
        # Different random streams (initial weights, shuffles, dropout masks), the same learning.
        assert reference["best_accuracy"] > 0.85 and mine["best_accuracy"] > reference["best_accuracy"] - 0.05
        assert abs(mine["train_loss"] - reference["train_loss"]) < 0.05 + 0.25 * reference["train_loss"]
