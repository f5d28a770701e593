"""The notation: the formula language (parse, evaluate), numbers as text, LaTeX as Unicode."""
