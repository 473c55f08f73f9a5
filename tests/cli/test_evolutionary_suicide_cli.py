"""``evolutionary-suicide`` through the CLI and the driver: bad input is one line and writes nothing; a (smoke) run
stores every headline name, aligned with the fecundities, with intervals that contain their shares."""

import json

import numpy as np
import pytest

from mesaopt.cli import main
from mesaopt.experiments.evolutionary_suicide import TREATMENTS, EvolutionarySuicideConfig
from mesaopt.experiments.evolutionary_suicide.run import extinction_generation, summarize_cell

HEADLINE = {"fecundities", "extinct_fraction", "extinct_fraction_ci", "median_generations_to_extinction",
            "final_ornament_survivors", "threshold_fecundity", "generations", "n_runs", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--fecundities", "0", "5"], "fecundities must be finite numbers > 0"),
    (["--fecundities", "10", "5"], "fecundities must be strictly increasing"),
    (["--treatments", "cost_to_nobody"], "treatments must be distinct names from cost_to_others"),
    (["--treatments", "no_harm", "no_harm"], "treatments must be distinct names"),
    (["--populations", "0"], "populations must be ≥ 1"),
    (["--harm", "-0.1"], "harm must be a finite number >= 0"),
    (["--viability-cost", "0"], "viability_cost must be a finite number > 0"),
    (["--capacity", "300"], "capacity must be >= 2 x carrying_capacity (400)"),
    (["--founders", "1"], "founders must be between 2 and capacity (512)"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, tmp_path, capsys):
    code = main(["run", "evolutionary-suicide", "--root", str(tmp_path), *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and needle in err[0], err
    assert not any(tmp_path.iterdir())


def test_a_run_stores_shares_per_treatment_and_fecundity(smoke_run):
    outcome = smoke_run("evolutionary-suicide")
    report = json.loads((outcome.path / "report.json").read_text())
    h = report["headline"]
    assert HEADLINE <= set(h) and h["fecundities"] == [5.0, 80.0] and h["n_runs"] == 3
    assert set(h["extinct_fraction"]) == set(TREATMENTS)
    for treatment in TREATMENTS:
        for share, (low, high) in zip(h["extinct_fraction"][treatment], h["extinct_fraction_ci"][treatment]):
            assert 0.0 <= low <= share <= high <= 1.0
        assert len(h["median_generations_to_extinction"][treatment]) == 2
    assert h["extinct_fraction"]["no_mutation"] == [0.0, 0.0]  # nothing evolves, b >= 5: far above replacement
    traj = report["trajectories"]
    assert len(traj["by_treatment"]["no_harm"][0]["median_population"]) == len(traj["generation"])


def test_cells_are_counted_from_the_population_records():
    population = np.array([[5, 3, 0, 0], [5, 6, 7, 8], [4, 2, 1, 0]], float)
    ornament = np.array([[1.0, 1.0, 0.0, 0.0], [1.0, 1.5, 2.0, 2.5], [1.0, 1.0, 1.0, 0.0]])
    assert extinction_generation(population).tolist() == [3, 0, 4]
    cell = summarize_cell(population, ornament)
    assert cell["extinct_fraction"] == round(2 / 3, 4) and cell["median_generations_to_extinction"] == 3.5
    assert cell["final_ornament_survivors"] == 2.5
    low, high = cell["extinct_fraction_ci"]
    assert low < 2 / 3 < high
    none = summarize_cell(population[1:2], ornament[1:2])
    assert none["median_generations_to_extinction"] is None and none["extinct_fraction"] == 0.0


def test_the_threshold_is_the_deterministic_replacement_fecundity():
    cfg = EvolutionarySuicideConfig()
    o_star = cfg.preference / (2 * cfg.viability_cost)
    assert cfg.threshold_fecundity / 2 * np.exp(-cfg.harm * o_star) == pytest.approx(1.0)
    assert cfg.fecundities[0] < cfg.threshold_fecundity < cfg.fecundities[-1]
    rows = cfg.population_params()
    assert rows.fecundity.shape == (len(TREATMENTS) * len(cfg.fecundities) * cfg.populations,)
    # treatments differ only in who pays and whether mutation happens
    per_cell = np.asarray(rows.harm_to_others)[:: cfg.populations].reshape(len(TREATMENTS), -1)[:, 0]
    assert per_cell.tolist() == pytest.approx([cfg.harm, 0.0, 0.0, cfg.harm])
