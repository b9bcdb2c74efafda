"""The MLP classifier with nn and optim, PyTorch-style: two spirals, a 2-64-64-2 network.

Run: python examples/mlp_classifier.py
"""
import math

import tapegrad as tg
import tapegrad.nn as nn
import tapegrad.nn.functional as F
from tapegrad.utils.data import DataLoader, TensorDataset


def two_spirals(points_per_class, noise=0.1):
    t = tg.rand(points_per_class) * 3 * math.pi + 0.5
    radius = t / (3 * math.pi)
    noise_a = tg.randn(points_per_class, 2) * noise
    noise_b = tg.randn(points_per_class, 2) * noise
    a = tg.stack([radius * t.cos(), radius * t.sin()], dim=1) + noise_a * radius.unsqueeze(1)
    b = tg.stack([-radius * t.cos(), -radius * t.sin()], dim=1) + noise_b * radius.unsqueeze(1)
    x = tg.cat([a, b])
    y = tg.cat([tg.zeros(points_per_class, dtype=tg.int64), tg.ones(points_per_class, dtype=tg.int64)])
    return x, y


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(2, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, 2)

    def forward(self, x):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


tg.manual_seed(0)  # seeds the data, the initial weights and each epoch's shuffle
x, y = two_spirals(500)
loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
model = Net()
optimizer = tg.optim.Adam(model.parameters(), lr=1e-2)
criterion = nn.CrossEntropyLoss()
print(model)
for epoch in range(60):
    total = 0.0
    for inputs, targets in loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), targets)
        loss.backward()
        optimizer.step()
        total += loss.item() * inputs.shape[0]
    if epoch % 20 == 19:
        print(f"epoch {epoch + 1}: loss {total / len(x):.4f}")
with tg.no_grad():
    accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
print(f"train accuracy: {accuracy:.4f}")
assert accuracy > 0.95
