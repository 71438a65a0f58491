"""Deep Q-learning: replay buffer, targets and schedules, compiled updates, vector environments,
resumable training, the cartpole_dqn recipe and `mlkit rl play`."""

import gymnasium as gym
import keras
import numpy as np
import pytest

from mlkit.models import q_network
from mlkit.rl import DQN, EpsilonSchedule, ReplayBuffer, evaluate_greedy, train_dqn
from mlkit.training import RunDirectory


class TwoArms(gym.Env):
    """One step per episode: action 1 pays 1, action 0 pays 0 (observation: a constant vector)."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        return np.ones(2, np.float32), {}

    def step(self, action):
        return np.ones(2, np.float32), float(action == 1), True, False, {}


def test_replay_buffer_wraps_around():
    buffer = ReplayBuffer(3, (1,))
    for step in range(5):
        buffer.add([step], step, float(step), [step + 1], step == 4)
    assert len(buffer) == 3 and buffer.position == 2
    assert sorted(buffer.actions.tolist()) == [2, 3, 4]  # 0 and 1 were overwritten, oldest first
    np.testing.assert_array_equal(buffer.observations[:, 0], [3, 4, 2])
    observations, actions, rewards, next_observations, terminated = buffer.sample(64)
    assert set(actions.tolist()) <= {2, 3, 4} and np.all(next_observations[:, 0] == observations[:, 0] + 1)
    assert np.all(terminated == (actions == 4))


def test_dqn_targets_and_the_target_network_schedule():
    keras.utils.set_random_seed(0)
    agent = DQN(q_network((2,), 2, hidden_units=(8,)), discount=0.9, learning_starts=0, batch_size=4,
                target_update_interval=5, epsilon=EpsilonSchedule(1.0, 1.0, 1))
    before = [weights.copy() for weights in agent.target.get_weights()]
    next_observations = np.array([[0.5, -1.0], [1.0, 2.0]], "float32")
    rewards, terminated = np.array([1.0, 2.0], "float32"), np.array([0.0, 1.0], "float32")
    next_q = agent.target.predict(next_observations, verbose=0)
    expected = rewards + 0.9 * (1 - terminated) * next_q.max(axis=1)
    np.testing.assert_allclose(agent.targets(rewards, next_observations, terminated), expected, rtol=1e-6)
    for step in range(4):
        agent.observe(np.ones(2, "float32"), step % 2, 1.0, np.ones(2, "float32"), False)
    assert int(agent.optimizer.iterations) == 4  # one update per step from the start
    assert all(np.array_equal(a, b) for a, b in zip(agent.target.get_weights(), before))  # not yet due
    agent.observe(np.ones(2, "float32"), 0, 1.0, np.ones(2, "float32"), False)  # step 5: hard update
    assert all(np.array_equal(a, b) for a, b in zip(agent.target.get_weights(), agent.online.get_weights()))
    double = DQN(agent.online, discount=0.9, double=True)
    double.target.set_weights([weights + 0.1 for weights in double.target.get_weights()])
    choice = agent.online.predict(next_observations, verbose=0).argmax(axis=1)
    values = double.target.predict(next_observations, verbose=0)[np.arange(2), choice]
    np.testing.assert_allclose(double.targets(rewards, next_observations, terminated),
                               rewards + 0.9 * (1 - terminated) * values, rtol=1e-6)
    with pytest.raises(ValueError, match="`discount`"):
        DQN(agent.online, discount=1.5)


def test_a_short_dqn_run_improves_its_return():
    keras.utils.set_random_seed(0)
    agent = DQN(q_network((2,), 2, hidden_units=(8,)), discount=0.0, learning_starts=16, batch_size=16,
                target_update_interval=10, optimizer=keras.optimizers.Adam(0.02),
                epsilon=EpsilonSchedule(1.0, 0.1, 100), seed=0)
    environment = TwoArms()
    environment.reset(seed=0)
    before = np.mean([agent.run_episode(environment, train=False)[0] for _ in range(10)])
    for _ in range(150):
        agent.run_episode(environment)
    after = np.mean([agent.run_episode(environment, train=False)[0] for _ in range(10)])
    assert after == 1.0 and after >= before  # greedy now always takes the paying arm
    q = agent.online.predict(np.ones((1, 2), "float32"), verbose=0)[0]
    assert q[1] > q[0] and abs(q[1] - 1.0) < 0.2


def test_replay_buffer_batches_and_save_load(tmp_path):
    buffer = ReplayBuffer(5, (2,), seed=1)
    for start in (0, 3, 6):  # batches of three: the third wraps around the end
        steps = np.arange(start, start + 3)
        buffer.add_batch(np.stack([steps, steps], 1), steps, steps * 0.5, np.stack([steps + 1, steps + 1], 1),
                         steps == 8)
    assert len(buffer) == 5 and buffer.position == 4
    assert sorted(buffer.actions.tolist()) == [4, 5, 6, 7, 8]
    observations, actions, rewards, next_observations, terminated = buffer.sample(4, batches=3)
    assert observations.shape == (3, 4, 2) and actions.shape == (3, 4)
    np.testing.assert_array_equal(rewards, actions * 0.5)
    loaded = ReplayBuffer(5, (2,)).load(buffer.save(tmp_path / "buffer.npz"))
    for field in ReplayBuffer.FIELDS:
        np.testing.assert_array_equal(getattr(loaded, field), getattr(buffer, field))
    assert (loaded.position, loaded.size) == (4, 5)
    with pytest.raises(ValueError, match="this buffer holds"):
        ReplayBuffer(5, (3,)).load(tmp_path / "buffer.npz")


def test_updates_that_fall_due_run_in_one_call():
    keras.utils.set_random_seed(0)
    agent = DQN(q_network((2,), 2, hidden_units=(4,)), learning_starts=5, train_frequency=4, gradient_steps=3,
                target_update_interval=6, tau=0.5, batch_size=2)
    calls = []
    learn = agent._learn
    agent._learn = lambda *arguments: calls.append(len(arguments[1])) or learn(*arguments)
    target = [weights.copy() for weights in agent.target.get_weights()]
    ones = np.ones((3, 2), "float32")
    for _ in range(3):  # steps 1–3, 4–6, 7–9: due at 8 (after learning_starts = 5), target at 6
        agent.observe_batch(ones, [0, 1, 0], [1.0, 1.0, 1.0], ones, [False, False, False])
    assert calls == [3] and int(agent.optimizer.iterations) == 3  # one call, three gradient steps
    online = agent.online.get_weights()
    # At step 6 the online net had not moved: halfway to it is no change. The update at step 8 came
    # after, and the next target update is due at 12.
    assert all(np.array_equal(a, b) for a, b in zip(agent.target.get_weights(), target))
    agent.observe_batch(ones, [0, 1, 0], [1.0, 1.0, 1.0], ones, [False, False, False])  # 10–12: update, target
    assert calls == [3, 3]
    moved = agent.target.get_weights()
    online = agent.online.get_weights()
    for before, after, reference in zip(target, moved, online):
        np.testing.assert_allclose(after, before + 0.5 * (reference - before), rtol=1e-5, atol=1e-6)


def constant(action):
    return lambda observations: np.full(len(observations), action)


def test_vector_evaluation_equals_single_episodes():
    environment = gym.make("CartPole-v1")
    expected = []
    for episode in range(5):
        environment.reset(seed=7 + episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = environment.step(1)
            total, done = total + reward, terminated or truncated
        expected.append(total)
    np.testing.assert_array_equal(evaluate_greedy(constant(1), "CartPole-v1", 5, seed=7), expected)


def test_collected_transitions_follow_the_dynamics(tmp_path):
    """Vector environments reset a finished copy on the step after; that step is no transition. Every
    stored one must be what CartPole does from its observation, and ends must be terminations."""
    keras.utils.set_random_seed(0)
    agent = DQN(q_network((4,), 2, hidden_units=(8,)), learning_starts=10**6, buffer_size=1000,
                epsilon=EpsilonSchedule(1.0, 1.0, 1))
    history, _ = train_dqn(agent, "CartPole-v1", RunDirectory(tmp_path / "run"), steps=600, rounds=2, environments=3,
                           evaluation_episodes=2)
    buffer = agent.buffer
    assert len(buffer) == int(history["steps"].iloc[-1]) >= 600
    environment = gym.make("CartPole-v1").unwrapped
    environment.reset(seed=0)
    for index in range(len(buffer)):
        environment.state = buffer.observations[index].astype("float64")
        environment.steps_beyond_terminated = None  # a fresh state, not a step after a fall
        next_observation, _, terminated, _, _ = environment.step(int(buffer.actions[index]))
        np.testing.assert_allclose(buffer.next_observations[index], next_observation, rtol=1e-5, atol=1e-6)
        assert buffer.terminated[index] == float(terminated)
    assert buffer.terminated.sum() == history["episodes"].sum()  # every finished episode ended in a fall


def test_early_stop_is_final(tmp_path):
    keras.utils.set_random_seed(0)
    agent = DQN(q_network((4,), 2, hidden_units=(8,)), learning_starts=50)
    run = RunDirectory(tmp_path / "run")
    history, best = train_dqn(agent, "CartPole-v1", run, steps=400, rounds=4, evaluation_episodes=3, solved_return=1)
    assert list(history["epoch"]) == [0] and run.done_info("loop:dqn")["stopped_early"]
    again = DQN(q_network((4,), 2, hidden_units=(8,)), learning_starts=50)
    history, restored = train_dqn(again, "CartPole-v1", run, steps=400, rounds=4, evaluation_episodes=3,
                                  solved_return=1)
    assert len(history) == 1 and int(again.steps) == int(agent.steps)  # nothing more trained
    assert all(np.array_equal(a, b) for a, b in zip(restored.get_weights(), best.get_weights()))


def test_an_interrupted_dqn_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    import mlkit.rl.dqn as dqn

    def train(directory):
        keras.utils.set_random_seed(0)
        agent = DQN(q_network((4,), 2, hidden_units=(16,)), learning_starts=100, train_frequency=4, gradient_steps=2,
                    target_update_interval=50, buffer_size=300, epsilon=EpsilonSchedule(1.0, 0.1, 300))
        history, best = train_dqn(agent, "CartPole-v1", RunDirectory(directory), steps=800, rounds=4, environments=2,
                                  evaluation_episodes=3)
        return history, [*agent.online.get_weights(), *agent.target.get_weights(), *best.get_weights(),
                         *[variable.numpy() for variable in agent.optimizer.variables], int(agent.steps)]

    _, expected = train(tmp_path / "straight")
    collect = dqn._collect

    def stop_in_round_three(agent, environment, count, until, seed):
        if until > 600:  # stands in for a kill: only what the last checkpoint saved survives
            raise KeyboardInterrupt
        return collect(agent, environment, count, until, seed)

    monkeypatch.setattr(dqn, "_collect", stop_in_round_three)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "run")
    assert sorted(path.name for path in (tmp_path / "run" / "replay").iterdir()) == ["dqn-2.npz", "dqn-3.npz"]
    monkeypatch.setattr(dqn, "_collect", collect)
    history, resumed = train(tmp_path / "run")
    assert list(history["epoch"]) == [0, 1, 2, 3]
    for got, want in zip(resumed, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    assert not list((tmp_path / "run" / "replay").glob("*.npz"))  # removed once finished


@pytest.mark.parametrize("make, message", [
    (lambda: DQN(q_network((2,), 2, hidden_units=(4,)), discount=-0.1), "`discount`"),
    (lambda: DQN(q_network((2,), 2, hidden_units=(4,)), tau=0.0), "`tau`"),
    (lambda: DQN(q_network((2,), 2, hidden_units=(4,)), batch_size=0), "`batch_size`"),
    (lambda: EpsilonSchedule(0.5, -0.2), "`end`"),
    (lambda: train_dqn(DQN(q_network((2,), 2, hidden_units=(4,))), "NoSuchEnvironment-v0", None, 10, 1),
     "`environment`"),
    (lambda: train_dqn(DQN(q_network((2,), 2, hidden_units=(4,))), "CartPole-v1", None, 10, 1), "Q-network takes"),
])
def test_bad_dqn_arguments_give_one_clear_error(make, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=message):
        make()


def test_cartpole_recipe_and_play(tmp_path, capsys):
    from PIL import Image

    from mlkit.recipes import get_recipe
    from mlkit_cli import main

    out = tmp_path / "run"
    metrics = get_recipe("cartpole_dqn").run({
        "out": str(out), "seeds": 2, "steps": 400, "rounds": 2, "hidden_units": [8], "learning_starts": 100,
        "evaluation_episodes": 4, "jit_compile": False})
    assert set(metrics["seeds"]) == {"0", "1"} and metrics["exported_seed"] in (0, 1)
    for result in metrics["seeds"].values():
        assert result["steps"] >= 400 and result["steps_per_second"] > 0 and result["fresh_mean_return"] >= 8
    assert (out / "report.md").is_file() and (out / "plots" / "returns.png").is_file()
    reloaded = keras.saving.load_model(out / "seed_0" / "q_network.keras", safe_mode=True)
    assert reloaded.outputs[0].shape[-1] == 2
    gif = tmp_path / "episode.gif"
    capsys.readouterr()
    assert main(["rl", "play", str(out), "--episodes", "2", "--render-gif", str(gif)]) == 0
    printed = capsys.readouterr().out
    assert "mean return" in printed and printed.count("episode ") == 3
    with Image.open(gif) as frames:
        first_length = int(printed.split("in ")[1].split(" steps")[0])
        assert 2 <= frames.n_frames <= first_length + 1 and frames.size == (300, 200)  # Pillow merges equal frames
    for arguments, message in ((["--render-gif", str(gif)], "already exists"), (["--episodes", "0"], "--episodes"),
                               (["--render-gif", str(tmp_path / "x.png")], ".gif")):
        assert main(["rl", "play", str(out), *arguments]) == 2
        error = capsys.readouterr().err
        assert message in error and len(error.splitlines()) == 1
    assert main(["rl", "play", str(tmp_path)]) == 2  # no export there
    assert len(capsys.readouterr().err.splitlines()) == 1
