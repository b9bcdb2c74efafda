"""An LSTM language model's training step (issue #14's figure): Embedding(100, 256), a one-layer
LSTM(256, 256) over batch 32 x 64 steps, Linear(256, 100) and cross-entropy; forward and backward
(the gradients are zeroed first, no optimizer step). Both libraries run the same code."""
from bench.harness import Case

VOCAB, EMBEDDING, HIDDEN, BATCH, STEPS = 100, 256, 256, 32, 64


def lstm_language_model_step(lib):
    lib.manual_seed(0)
    nn = lib.nn

    class LanguageModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, EMBEDDING)
            self.lstm = nn.LSTM(EMBEDDING, HIDDEN)
            self.head = nn.Linear(HIDDEN, VOCAB)

        def forward(self, tokens):
            output, _ = self.lstm(self.embedding(tokens))
            return self.head(output)

    model = LanguageModel()
    tokens = lib.randint(0, VOCAB, (STEPS, BATCH))
    targets = lib.randint(0, VOCAB, (STEPS * BATCH,))

    def step():
        model.zero_grad()
        logits = model(tokens)
        loss = nn.functional.cross_entropy(logits.reshape(STEPS * BATCH, VOCAB), targets)
        loss.backward()

    return step


CASES = [Case("LSTM language model step, batch 32 x 64 steps, hidden 256, vocab 100", torchlike=lstm_language_model_step)]
