"""club.yaml: defaults, and errors that name the key."""

import pytest

from pipeline.config import ConfigError, load_config


def write(tmp_path, text):
    path = tmp_path / "club.yaml"
    path.write_text(text, "utf-8")
    return path


def test_bundled_config_loads_with_contract_defaults():
    config = load_config()
    assert [r.name for r in config.segments][:2] == ["Champions", "Loyal Customers"]
    assert config.segments[-1].name == "Low Priority"
    assert config.timezone == "Asia/Shanghai"
    assert config.print.paper == "A4"


@pytest.mark.parametrize(
    "text, message",
    [
        ("club:\n  nmae: X\n", "club.nmae: unknown key"),  # misspelt key
        ("timezone: Mars/Olympus\n", "timezone: Value error, unknown time zone"),
        ("print:\n  batch_size: many\n", "print.batch_size:"),  # wrong type
        ("print:\n  paper: A3\n", "print.paper:"),  # not a supported paper size
        ("calendar:\n  western: [halloween]\n", "unknown western date 'halloween'"),
        ("calendar:\n  custom:\n    - {when: '2026/06/18', name: x, name_en: y}\n",
         "calendar.custom.0.when"),
        ("scorecard:\n  tiers:\n    - {name: key, min_score: 70, action: strengthen}\n",
         "scorecard.tiers"),  # no tier covers scores below 70
        ("complaints:\n  sla:\n    resolution_hours: -1\n", "complaints.sla.resolution_hours"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_bad_config_names_the_key(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(".", r"\.")):
        load_config(write(tmp_path, text))


def test_missing_config_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="club.yaml: configuration file not found"):
        load_config(tmp_path / "club.yaml")
