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
losses = []
for epoch in range(10):
    for x_val, y_val in zip(x_data, y_data):
        l = loss(x_val, y_val)
        l.backward()
        print("\tgrad: ", x_val, y_val, w.grad.item())
        # d/dw (x*w - y)^2 = 2x(x*w - y): autograd must agree with the derivative by hand.
        expected_grad = 2 * x_val * (x_val * w.item() - y_val)
        assert abs(w.grad.item() - expected_grad) <= 1e-5 * max(1.0, abs(expected_grad)), (w.grad.item(), expected_grad)
        w.data = w.data - 0.01 * w.grad.data
        w.grad.data.zero_()  # manually zero the gradients after updating weights
    print("progress:", epoch, l.item())
    losses.append(l.item())
prediction = forward(4).item()
print("predict (after training)", 4, prediction)
# The data is y = 2x, so w approaches 2 and the prediction for 4 approaches 8; after these ten
# epochs PyTorch's run of the same script predicts 7.804864.
assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
assert abs(prediction - 8.0) < 0.25 and abs(prediction - 7.804864) < 1e-4, prediction
