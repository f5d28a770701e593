"""config.toml: defaults, values, and one-line errors."""

from __future__ import annotations

from datetime import timedelta

import pytest

from dlstudy.config import Config, load_config
from dlstudy.errors import DlstudyError


def test_missing_file_means_defaults(tmp_path):
    assert load_config(tmp_path / "config.toml") == Config()


def test_values_are_read(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('desired_retention = 0.85\nlearning_steps = [2, 20]\nfuzz = false\nnew_per_day = 5\ndecks = ["~/d"]\n')
    config = load_config(path)
    assert config.desired_retention == 0.85 and not config.fuzz and config.new_per_day == 5
    assert config.learning_steps == (timedelta(minutes=2), timedelta(minutes=20))
    assert config.decks[0].name == "d" and "~" not in str(config.decks[0])


@pytest.mark.parametrize(
    "text, message",
    [
        ("desired_retention = 2", "desired_retention must be a number from 0.7 to 0.99"),
        ("retention = 0.9", "unknown setting 'retention'"),
        ("learning_steps = [0]", "learning_steps must be a list of minutes"),
        ("fuzz = 'yes'", "fuzz must be true or false"),
        ("decks = 'x'", "decks must be a list of paths"),
        ("desired_retention = ", "config.toml"),
    ],
)
def test_bad_values_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "config.toml"
    path.write_text(text + "\n")
    with pytest.raises(DlstudyError, match=message) as info:
        load_config(path)
    assert "\n" not in info.value.message
