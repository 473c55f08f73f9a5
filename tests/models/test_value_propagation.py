"""The value-propagation planner (`vprop`): its propagation is a shortest-path search, its cheap gradient equals
autodiff's, a planted planner reaches whatever its reward map marks (the goal, or the corner: a planted proxy),
and PPO trains it."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from mesaopt.envs import Maze, misgeneralization_params
from mesaopt.envs.bfs import distance_map
from mesaopt.models import ValuePropagationActorCritic
from mesaopt.models.value_propagation import (MIN_CLIMB, MIN_COST, NEIGHBOUR_MOVES, OFF_GRID, WALL_PASSAGE,
                                              edge_channels, propagate, shortest_path_values)
from mesaopt.optimizers import PPOConfig, make_ppo

SIDE = 9


def _mazes(side: int, n: int, key: int = 0):
    env = Maze(side, obs_format="grid")
    _, shifted = misgeneralization_params(side, 1, max_steps=4 * side * side)
    obs, state = jax.vmap(env.reset, (0, None))(jax.random.split(jax.random.key(key), n), shifted)
    return env, shifted, obs, state


def test_propagation_is_minus_the_maze_distance_to_the_rewarded_cell():
    _, _, obs, state = _mazes(SIDE, 4)
    for walls, goal in zip(np.asarray(state.walls), np.asarray(obs[:, 2])):
        log_reward = np.where(goal > 0, 0.0, -1e4).astype(np.float32)
        log_passage = np.where(walls, -1e4, -1.0).astype(np.float32)
        values = propagate(jnp.asarray(log_reward), jnp.asarray(log_passage), SIDE * SIDE)
        distance = np.asarray(distance_map(jnp.asarray(walls), jnp.asarray(goal > 0)))
        open_cells = ~walls
        np.testing.assert_allclose(np.asarray(values)[open_cells], -distance[open_cells])
        assert distance[open_cells].max() > 8  # long paths, not only neighbours


def test_its_gradient_along_best_neighbours_equals_autodiff():
    k_r, k_p, k_c = jax.random.split(jax.random.key(3), 3)
    log_reward = 2 * jax.random.normal(k_r, (SIDE, SIDE))
    log_passage = -jax.nn.softplus(jax.random.normal(k_p, (SIDE, SIDE))) - MIN_COST
    cotangent = jax.random.normal(k_c, (SIDE, SIDE))

    def loss(fn):
        return jax.grad(lambda r, p: jnp.sum(cotangent * fn(r, p, SIDE * SIDE)), argnums=(0, 1))(log_reward,
                                                                                                 log_passage)

    expected, cheap = loss(propagate), loss(shortest_path_values)
    for e, c in zip(expected, cheap):
        np.testing.assert_allclose(np.asarray(c), np.asarray(e), atol=1e-5)
    assert float(jnp.abs(expected[1]).max()) > 1.0  # some chains pass through several cells


def _planted(side: int, reward_on: str):
    """A planner with hand-set weights: log-reward ≈ 0 where ``reward_on`` ('goal' or 'corner') marks, −10
    elsewhere; passage cost ≈ 0.008 through open cells (walls are impassable); a climb steep enough to be greedy."""
    model = ValuePropagationActorCritic((3, side, side), 4, hidden=2, key=jax.random.key(0))
    embed = np.zeros(model.embed.weight.shape, np.float32)
    embed[1, 0, 1, 1] = 1.0  # hidden 1 = the wall channel
    bias = np.zeros(model.embed.bias.shape[0], np.float32)
    if reward_on == "goal":
        embed[0, 1, 1, 1] = 1.0  # hidden 0 = the goal channel (the maps read walls, goal, then 4 edge channels)
    else:  # hidden 0 = relu(top + right − 1.75): 0.25 at the top-right corner alone
        embed[0, 2, 1, 1], embed[0, 3, 1, 1], bias[0] = 1.0, 1.0, -1.75
    maps = np.array([[20.0 if reward_on == "goal" else 80.0, 0.0], [0.0, -20.0]], np.float32)
    model = eqx.tree_at(lambda m: (m.embed.weight, m.embed.bias, m.maps.weight, m.maps.bias), model,
                        (jnp.asarray(embed), jnp.asarray(bias)[:, None, None], jnp.asarray(maps),
                         jnp.array([-10.0, 5.0])))
    return eqx.tree_at(lambda m: m.log_climb, model, jnp.log(jnp.array(1e3)))


def _greedy_outcomes(model, side: int, n: int):
    env, params, obs, state = _mazes(side, n, key=1)

    def run(obs, state):
        def step(carry, _):
            obs, state, done, proxy = carry
            action = jnp.argmax(model(obs)[0])
            obs, state, _, at_goal, _, info = env.step(jax.random.key(0), state, action, params)
            return (obs, state, done | at_goal, proxy | (info["in_proxy"] & ~done)), None

        start = (obs, state, jnp.array(False), jnp.array(False))
        (_, _, done, proxy), _ = jax.lax.scan(step, start, None, length=2 * side * side)
        return done, proxy

    done, proxy = jax.jit(jax.vmap(run))(obs, state)
    return np.asarray(done), np.asarray(proxy)


@pytest.mark.parametrize("side", (5, 7, 13))
def test_edge_channels_mark_the_top_right_corner_alone_at_every_side(side):
    top, right, bottom, left = edge_channels(side, side)
    corner = np.maximum(top + right - 1.75, 0)
    assert corner[0, side - 1] == 0.25 and np.count_nonzero(corner) == 1
    assert bottom[side - 1, 0] == left[side - 1, 0] == 1.0 and top[side - 1, 0] == 0.5 ** (side - 1)


def test_a_planted_planner_goes_where_its_reward_map_points():
    goal_seeker, corner_seeker = _planted(SIDE, "goal"), _planted(SIDE, "corner")
    done, proxy = _greedy_outcomes(goal_seeker, SIDE, 32)
    assert done.all() and proxy.mean() < 0.2  # every goal of the shifted distribution, greedily
    done, proxy = _greedy_outcomes(corner_seeker, SIDE, 32)
    # the planted proxy: the corner, unless the goal happens to lie on the way there
    assert (done | proxy).all() and proxy.mean() > 0.6 and done.mean() < 0.4


def test_one_network_plans_on_mazes_of_any_side():
    goal_seeker, corner_seeker = _planted(5, "goal"), _planted(5, "corner")  # built for side 5
    done, _ = _greedy_outcomes(goal_seeker, 11, 16)
    assert done.all()  # its rounds follow the grid it is given (h·w/2 = 60 here, not side 5's 12)
    done, proxy = _greedy_outcomes(corner_seeker, 11, 16)
    assert (done | proxy).all() and proxy.mean() > 0.6


def test_its_maps_ignore_the_agent_walls_are_built_in_and_the_critic_is_exp_of_the_values():
    model = ValuePropagationActorCritic((3, SIDE, SIDE), 4, key=jax.random.key(2))
    _, _, obs, state = _mazes(SIDE, 2)
    walls, agent = np.asarray(state.walls[0]), np.asarray(obs[0, 1])
    moved = np.asarray(obs[0]).copy()
    moved[1] = 0.0
    moved[1][tuple(np.argwhere(~walls & (agent == 0))[0])] = 1.0  # the same maze, the agent elsewhere
    (logits, value), acts = model(obs[0], capture=True)
    _, acts_moved = model(jnp.asarray(moved), capture=True)
    for name in ("hook_log_reward", "hook_log_passage", "hook_values"):
        np.testing.assert_array_equal(np.asarray(acts[name]), np.asarray(acts_moved[name]))
    assert np.all(np.asarray(acts["hook_log_reward"])[walls] == OFF_GRID)
    assert np.all(np.asarray(acts["hook_log_reward"])[~walls] > OFF_GRID / 2)
    assert np.all(np.asarray(acts["hook_log_passage"])[walls] == WALL_PASSAGE)  # no path through a wall
    values, row, col = np.asarray(acts["hook_values"]), *np.argwhere(agent > 0)[0]
    padded = np.pad(walls, 1, constant_values=True)
    assert float(value) == pytest.approx(float(np.exp(values[row, col])), rel=1e-6)
    scale = MIN_CLIMB + float(jnp.exp(model.log_climb))
    for move, (dr, dc) in enumerate(NEIGHBOUR_MOVES):
        blocked = padded[1 + row + dr, 1 + col + dc]
        target = values[row, col] if blocked else values[row + dr, col + dc]
        assert float(logits[move]) == pytest.approx(scale * target + float(model.action_bias[move]), abs=1e-5)
    assert any(padded[1 + row + dr, 1 + col + dc] for dr, dc in NEIGHBOUR_MOVES)  # some move here is blocked


def test_it_needs_whole_grid_observations_and_four_moves():
    with pytest.raises(ValueError, match="--obs-format grid"):
        ValuePropagationActorCritic((3, 17, 17, 1), 4, key=jax.random.key(0))
    with pytest.raises(ValueError, match="4 neighbouring cells"):
        ValuePropagationActorCritic((3, 5, 5), 5, key=jax.random.key(0))


def test_ppo_updates_it_and_the_reward_map_moves():
    env = Maze(5, obs_format="grid")
    cfg = PPOConfig(n_envs=8, n_steps=8, n_minibatches=2, n_epochs=1, learning_rate=1e-2)
    ppo = make_ppo(cfg, env, lambda k: ValuePropagationActorCritic(env.obs_shape, 4, key=k), 128)
    result = jax.jit(ppo.train)(jax.random.key(0), env.default_params())
    before = ppo.model(ppo.init(jax.random.key(0), env.default_params()).params)
    after = ppo.model(result.params)
    assert np.all(np.isfinite(np.asarray(result.metrics.policy_loss)))
    assert float(jnp.abs(after.maps.weight - before.maps.weight).max()) > 1e-4
