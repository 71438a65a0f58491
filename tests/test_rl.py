"""Tabular reinforcement learning: the robot vacuum MDP, Q-learning, value iteration, resume, recipes."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from mlkit.rl import EpsilonSchedule, QLearning, RobotVacuum, evaluate_policy, make_environment, train_q_learning
from mlkit.rl import value_iteration
from mlkit.training import RunDirectory


class Corridor(gym.Env):
    """Cells 0…4, start at 0; left/right; reaching cell 4 gives +1 and ends the episode."""

    def __init__(self, length=5):
        self.length = length
        self.observation_space, self.action_space = gym.spaces.Discrete(length), gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position = 0
        return 0, {}

    def step(self, action):
        self.position = max(0, min(self.length - 1, self.position + (1 if action == 1 else -1)))
        done = self.position == self.length - 1
        return self.position, float(done), done, False, {}


def test_q_learning_finds_the_corridor_policy():
    agent = QLearning(5, 2, discount=0.9, deterministic=True, epsilon=EpsilonSchedule(1.0, 0.1, 50), seed=0)
    environment = Corridor()
    environment.reset(seed=0)
    for _ in range(200):
        agent.train_episode(environment)
    assert list(agent.greedy_policy()[:4]) == [1, 1, 1, 1]
    np.testing.assert_allclose(agent.q_table[:4, 1], [0.9**3, 0.9**2, 0.9, 1.0])  # r + γ max Q' exactly


def test_value_iteration_matches_hand_computed_values():
    # s0 -a0-> s1 (r 0); s0 -a1-> end (r 1); s1 -a0-> end (r 5); s1 -a1-> s2 (r 0); s2 -any-> end (r 2), γ = 0.5
    transitions = {0: {0: [(1.0, 1, 0.0, False)], 1: [(1.0, 0, 1.0, True)]},
                   1: {0: [(1.0, 0, 5.0, True)], 1: [(1.0, 2, 0.0, False)]},
                   2: {0: [(1.0, 0, 2.0, True)], 1: [(1.0, 0, 2.0, True)]}}
    values, q, policy = value_iteration(transitions, 3, 2, discount=0.5)
    np.testing.assert_allclose(values, [2.5, 5.0, 2.0])  # V(s1) = max(5, 0.5·2); V(s0) = max(0.5·5, 1)
    np.testing.assert_allclose(q[0], [2.5, 1.0])
    assert list(policy[:2]) == [0, 0]


def test_robot_vacuum_is_the_notes_example():
    environment = RobotVacuum()
    check_env(environment, skip_render_check=True)
    state, info = environment.reset(seed=0)
    assert info == {"battery": 30}
    state, reward, terminated, truncated, info = environment.step(0)  # explore: 30 − 19 = 11 %
    assert (reward, terminated, info) == (10.0, False, {"battery": 11, "cleaned": 1})
    state, reward, terminated, truncated, info = environment.step(1)  # home: 11 − 10 = 1 %
    assert (reward, terminated, info["battery"]) == (0.0, True, 1)
    environment.reset(options={"battery": 28})
    assert environment.step(0)[1:3] == (10.0, False)
    assert environment.step(0)[1:3] == (-100.0, True)  # 9 % cannot pay for a room
    values, _, policy = value_iteration(environment.P, environment.observation_space.n, 2, discount=1.0)
    # exploring is worth it from 29 % (one room and the way home), not at 28 %
    assert [policy[environment.encode(b, 0, True)] for b in (28, 29, 30)] == [1, 0, 0]
    assert values[environment.encode(48, 0, True)] == 20.0  # two rooms: 48 → 29 → 10 → 0


def test_training_resumes_from_the_last_round_exactly(tmp_path):
    def agent():
        return QLearning(16, 4, learning_rate=0.2, discount=0.95, epsilon=EpsilonSchedule(1.0, 0.1, 200), seed=3)

    environment = make_environment("FrozenLake-v1", is_slippery=True)
    straight = agent()
    train_q_learning(straight, environment, RunDirectory(tmp_path / "straight"), episodes=400, rounds=4, seed=3)

    interrupted, calls = agent(), []
    original = interrupted.train_episode

    def crash_in_round_three(environment):
        calls.append(1)
        if len(calls) == 250:
            raise KeyboardInterrupt  # stands in for a kill: nothing after the last checkpoint survives
        return original(environment)

    interrupted.train_episode = crash_in_round_three
    with pytest.raises(KeyboardInterrupt):
        train_q_learning(interrupted, environment, RunDirectory(tmp_path / "run"), episodes=400, rounds=4, seed=3)
    resumed = agent()
    history = train_q_learning(resumed, environment, RunDirectory(tmp_path / "run"), episodes=400, rounds=4, seed=3)
    assert list(history["epoch"]) == [0, 1, 2, 3]
    np.testing.assert_array_equal(resumed.q_table, straight.q_table)
    assert resumed.episodes_trained == 400


def test_q_table_round_trip(tmp_path):
    agent = QLearning(4, 2, discount=0.5, deterministic=True)
    agent.q_table[:] = np.arange(8).reshape(4, 2)
    loaded = QLearning.load(agent.save(tmp_path / "q.npz"))
    np.testing.assert_array_equal(loaded.q_table, agent.q_table)
    assert loaded.discount == 0.5 and loaded.deterministic


@pytest.mark.parametrize("make, message", [
    (lambda: QLearning(4, 2, discount=1.5), "`discount`"),
    (lambda: QLearning(4, 2, learning_rate=0.0), "`learning_rate`"),
    (lambda: EpsilonSchedule(1.0, -0.1), "`end`"),
    (lambda: EpsilonSchedule(0.1, 0.5), "must not exceed"),
    (lambda: make_environment("MountainCar-v0"), "`environment`"),
    (lambda: RobotVacuum(initial_battery=130), "`initial_battery`"),
    (lambda: value_iteration({}, 1, 1, discount=-0.1), "`discount`"),
])
def test_bad_arguments_give_one_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_evaluate_policy_on_the_notes_start():
    environment = RobotVacuum()
    always_explore = np.zeros(environment.observation_space.n, int)
    assert list(evaluate_policy(environment, always_explore, 2)) == [-90.0, -90.0]  # one room, then stranded


def test_robot_vacuum_and_frozen_lake_recipes(tmp_path):
    from mlkit.recipes import get_recipe

    metrics = get_recipe("robot_vacuum").run({"out": str(tmp_path / "vacuum"), "exploration_episodes": 50,
                                              "exploration_rates": [0.0, 0.5], "rounds": 2})
    assert metrics["policy_equals_optimum"] and metrics["notes_start"]["greedy_action"] == "explore"
    assert (tmp_path / "vacuum" / "plots" / "exploration.png").is_file()
    assert QLearning.load(metrics["q_table"]).q_table.shape == (101 * 4 * 2, 2)
    tasks = {name: task for name, task in get_recipe("frozen_lake").DEFAULTS["tasks"].items()
             if name != "frozen_lake_slippery"}
    metrics = get_recipe("frozen_lake").run({"out": str(tmp_path / "lake"), "tasks": tasks, "evaluation_episodes": 20,
                                             "rounds": 2})
    assert metrics["tasks"]["frozen_lake"]["success_rate"] == 1.0
    assert metrics["tasks"]["cliff_walking"]["path_is_optimal"]
