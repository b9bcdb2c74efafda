"""y = x * w, trained one sample at a time (PyTorchZeroToAll, lecture 4), on tapegrad.

Run: python examples/linear_regression.py
"""
import tapegrad as tg

x_data = [1.0, 2.0, 3.0]
y_data = [2.0, 4.0, 6.0]

w = tg.tensor([1.0], requires_grad=True)


def forward(x):
    return x * w


def loss(x, y):
    y_pred = forward(x)
    return (y_pred - y) * (y_pred - y)


print("predict (before training)", 4, forward(4).item())
for epoch in range(10):
    for x_val, y_val in zip(x_data, y_data):
        l = loss(x_val, y_val)
        l.backward()
        print("\tgrad: ", x_val, y_val, w.grad.item())
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()  # manually zero the gradients after updating weights
    print("progress:", epoch, l.item())
print("predict (after training)", 4, forward(4).item())
