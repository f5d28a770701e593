"""Oracles for the foundations: perceptron, linear and logistic regression, generative classifiers, gradient checks."""

from __future__ import annotations
