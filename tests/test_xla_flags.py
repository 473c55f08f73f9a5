"""mesaopt's XLA flags: one CPU device per usable core unless the user says otherwise; bad values get one line."""

from __future__ import annotations

from mesaopt import _xla_flags as flags


def test_device_count_defaults_to_the_usable_cores(monkeypatch):
    monkeypatch.delenv("MESAOPT_CPU_DEVICES", raising=False)
    assert flags.cpu_device_count() == min(flags.usable_cores(), flags.MAX_CPU_DEVICES)


def test_device_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("MESAOPT_CPU_DEVICES", "3")
    assert flags.cpu_device_count() == 3


def test_bad_device_count_is_one_line_and_the_default(monkeypatch, capsys):
    monkeypatch.setenv("MESAOPT_CPU_DEVICES", "lots")
    assert flags.cpu_device_count() == min(flags.usable_cores(), flags.MAX_CPU_DEVICES)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "MESAOPT_CPU_DEVICES" in err[0] and "positive integer" in err[0]


def test_flags_the_user_set_are_kept(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=5")
    monkeypatch.setenv("MESAOPT_CPU_DEVICES", "2")
    flags.apply_xla_flags()
    value = flags.os.environ["XLA_FLAGS"]
    assert "--xla_force_host_platform_device_count=5" in value
    assert "device_count=2" not in value
    assert "xla_cpu_enable_concurrency_optimized_scheduler=false" in value


def test_flags_are_added_when_absent(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", "")
    monkeypatch.setenv("MESAOPT_CPU_DEVICES", "2")
    monkeypatch.delenv("MESAOPT_KEEP_XLA_SCHEDULER", raising=False)
    flags.apply_xla_flags()
    assert flags.os.environ["XLA_FLAGS"].split() == [
        "--xla_cpu_enable_concurrency_optimized_scheduler=false", "--xla_force_host_platform_device_count=2"]
