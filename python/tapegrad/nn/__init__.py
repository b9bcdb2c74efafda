"""tapegrad.nn: modules, parameters, functional forms and initialisers, shaped like torch.nn."""
from . import functional, init
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
    ModuleList,
    MSELoss,
    NLLLoss,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from .module import Module
from .parameter import Parameter

__all__ = ["Module", "Parameter", "functional", "init", "Linear", "Identity", "ReLU", "Sigmoid", "Tanh", "Softmax",
           "LogSoftmax", "Flatten", "Dropout", "Sequential", "ModuleList", "MSELoss", "L1Loss", "CrossEntropyLoss",
           "NLLLoss", "BCELoss", "BCEWithLogitsLoss"]
