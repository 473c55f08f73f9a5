"""``nested`` through the CLI and the driver: bad input is one line and writes nothing; the smoke run (small but
real) stores every headline name aligned with the levels and their ladders, and shows evolution raising fitness,
the objectives drifting from fitness level by level, and the planner's pressure backfiring under the shift."""

import json

import pytest


HEADLINE = {"levels", "objectives", "pressures", "evolved_weights", "true_fitness", "true_fitness_ci",
            "true_fitness_shifted", "true_fitness_shifted_ci", "own_objective", "own_objective_ci",
            "own_objective_shifted", "own_objective_shifted_ci", "objective_correlation_train",
            "objective_correlation_train_ci", "objective_correlation_shifted", "objective_correlation_shifted_ci",
            "objective_correlation_pairs", "n_seeds", "wall_seconds"}


@pytest.mark.parametrize("args, needle", [
    (["--generation-levels", "0", "31"], "generation_levels must be whole numbers from 0 to 30"),
    (["--depth-levels", "0", "13"], "depth_levels must be whole numbers from 0 to 12"),
    (["--depth-levels", "2", "1"], "depth_levels must be strictly increasing"),
    (["--lifetime-levels", "0", "10"], "lifetime_levels must be whole numbers from 1 up"),
    (["--planner-depth", "-1"], "planner_depth must be whole numbers from 0 to 12"),
    (["--delay", "9"], "delay must be a whole number from 0 to learner.max_delay (8)"),
    (["--shifted-correlation", "-2"], "shifted_correlation must be between -1 and 1"),
    (["--trips", "0"], "trips must be ≥ 1"),
])
def test_bad_input_is_one_line_and_writes_nothing(args, needle, bad_input):
    bad_input("nested", args, needle)


def test_a_run_stores_every_headline_name_aligned_with_levels_and_ladders(smoke_run):
    h = json.loads((smoke_run("nested").path / "report.json").read_text())["headline"]
    assert HEADLINE <= set(h) and h["levels"] == ["evolution", "learner", "planner"]
    assert h["pressures"]["planner"] == {"knob": "depth", "values": [0, 3]}
    for key in ("true_fitness", "own_objective", "true_fitness_shifted"):
        assert [len(h[key][n]) for n in h["levels"]] == [2, 1, 2]
    assert len(h["objective_correlation_train"]) == 3 and h["objective_correlation_train"][0] == 1.0
    assert set(h["objective_correlation_pairs"]["train"]) == {"evolution→learner", "learner→planner"}
    for world in ("train", "shifted"):
        product, pairs = h[f"objective_correlation_chain_product_{world}"], h["objective_correlation_pairs"][world]
        assert product[0] == 1.0 and product[1] == pytest.approx(h[f"objective_correlation_{world}"][1], abs=1e-3)
        assert product[2] == pytest.approx(pairs["evolution→learner"] * pairs["learner→planner"], abs=0.05)


def test_evolution_learns_and_the_chain_drifts_from_fitness(smoke_run):
    h = json.loads((smoke_run("nested").path / "report.json").read_text())["headline"]
    evolved, start = h["true_fitness_ci"]["evolution"][1], h["true_fitness_ci"]["evolution"][0]
    assert evolved[0] > start[1]  # evolution raised fitness (from a reward of 0)
    assert h["evolved_weights"]["sweetness"] > 0.5  # the sweet tooth: nutrition is felt a meal late
    train, shifted = h["objective_correlation_train"], h["objective_correlation_shifted"]
    assert train[0] == 1.0 > train[1] > train[2] > 0.0  # drifts level by level in the ancestral world
    assert shifted[1] < 0.0 and shifted[2] < 0.0  # and turns against fitness in the junk-food world
    deep, random = h["true_fitness_shifted_ci"]["planner"][1], h["true_fitness_shifted_ci"]["planner"][0]
    assert deep[1] < random[0]  # planning harder on the learned values hurts under the shift
    assert h["own_objective"]["planner"][1] > h["own_objective"]["planner"][0]  # while its own objective rises
