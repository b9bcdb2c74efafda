"""tapegrad.nn: modules, parameters, functional forms and initialisers, shaped like torch.nn."""
from . import functional, init, parallel, utils
from .activation import (CELU, ELU, GELU, GLU, SELU, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, Mish,
                         ReLU6, SiLU, Softplus, Softsign, Tanhshrink)
from .loss import CosineEmbeddingLoss, HuberLoss, KLDivLoss, MarginRankingLoss, SmoothL1Loss
from .conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from .padding import (ConstantPad1d, ConstantPad2d, Fold, ReflectionPad1d, ReflectionPad2d, ReplicationPad1d,
                      ReplicationPad2d, Unfold, ZeroPad2d)
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool1d, AvgPool2d, MaxPool1d,
                      MaxPool2d)
from .attention import MultiheadAttention, TransformerEncoderLayer
from .normalization import (BatchNorm1d, BatchNorm2d, Dropout1d, Dropout2d, GroupNorm, LayerNorm,
                            RMSNorm)
from .container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from .layers import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    Dropout,
    Flatten,
    Identity,
    L1Loss,
    Linear,
    LogSoftmax,
    MSELoss,
    NLLLoss,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)
from .module import Module
from .parameter import Parameter
from .rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNBase, RNNCell, RNNCellBase
from .sparse import Embedding

__all__ = ["Module", "Parameter", "functional", "init", "parallel", "utils", "Linear", "Identity", "ReLU", "Sigmoid", "Tanh",
           "Softmax", "LogSoftmax", "Flatten", "Dropout", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "MSELoss", "L1Loss", "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
           "Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d", "ConstantPad1d", "ConstantPad2d", "ZeroPad2d",
           "ReflectionPad1d", "ReflectionPad2d", "ReplicationPad1d", "ReplicationPad2d", "Unfold", "Fold", "MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveMaxPool2d",
           "BatchNorm1d", "BatchNorm2d", "LayerNorm", "GroupNorm", "RMSNorm", "Dropout1d", "Dropout2d",
           "MultiheadAttention", "TransformerEncoderLayer",
           "GELU", "SiLU", "LeakyReLU", "ELU", "SELU", "CELU", "Softplus", "Hardtanh", "ReLU6", "Mish", "LogSigmoid", "GLU",
           "Hardsigmoid", "Hardswish", "Softsign", "Tanhshrink",
           "SmoothL1Loss", "HuberLoss", "KLDivLoss", "CosineEmbeddingLoss", "MarginRankingLoss",
           "Embedding", "RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]
