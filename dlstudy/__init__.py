"""dlstudy: study deep learning for exams from the terminal."""

__version__ = "0.1.0"
