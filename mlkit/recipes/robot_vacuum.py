"""The notes' robot vacuum (SPEC §8): explore a new room (19 % battery) or go back to the outlet
(10 %)? Deterministic Q-learning against the value-iteration optimum, and exploration against return.

- Q-learning with the notes' deterministic update Q ← r + γ max Q' (γ = 1), ε decaying from 1 to
  0.1, exploring starts (a random battery of 10–100 % at every episode, so every level is learnt).
- Value iteration on the known transition model gives the optimum; the learned greedy policy must
  choose an optimal action in every state reachable from a start.
- The greedy policy as a table (battery × situation), and the notes' case: at 30 %, explore once.
- Exploration against return: agents with fixed ε from the notes' start (30 %), their return while
  learning (what exploring costs) and their greedy policy's return afterwards (what it buys).
"""

import matplotlib.pyplot as plt
import numpy as np

from mlkit.io import write_text
from mlkit.plotting import save_figure
from mlkit.rl import ACTION_NAMES, EpsilonSchedule, QLearning, RobotVacuum, evaluate_policy, train_q_learning
from mlkit.rl import value_iteration
from mlkit.training import start_run

DESCRIPTION = ("The notes' robot vacuum: deterministic Q-learning vs the value-iteration optimum, the greedy policy "
               "by battery level, exploration rate vs return.")

DEFAULTS = {
    "rooms": 3,
    "initial_battery": 30,  # the notes' start, for evaluation and the exploration study
    "room_cost": 19,
    "home_cost": 10,
    "cost_noise": 0.0,  # > 0: a room sometimes costs 10 % more (then use deterministic_update=false)
    "episodes": 40_000,
    "rounds": 10,  # checkpoints (a killed run resumes from the last one)
    "discount": 1.0,
    "deterministic_update": True,  # the notes' Q ← r + γ max Q'; false: Q ← Q + α(target − Q)
    "learning_rate": 0.1,  # α of the stochastic update
    "epsilon_start": 1.0,
    "epsilon_end": 0.1,
    "epsilon_decay_episodes": 20_000,
    "exploration_rates": [0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5],
    "exploration_episodes": 300,
}


def run(config=None, overwrite=False):
    with start_run("robot_vacuum", DEFAULTS, config, overwrite) as run:
        config, seed = run.config, run.config["seed"]
        physics = {key: config[key] for key in ("rooms", "room_cost", "home_cost", "cost_noise")}
        training_env = RobotVacuum(initial_battery=None, **physics)  # exploring starts
        n_states = training_env.observation_space.n
        agent = QLearning(n_states, 2, learning_rate=config["learning_rate"], discount=config["discount"],
                          deterministic=config["deterministic_update"], seed=seed,
                          epsilon=EpsilonSchedule(config["epsilon_start"], config["epsilon_end"],
                                                  config["epsilon_decay_episodes"]))
        history = train_q_learning(agent, training_env, run.child("q_learning"), config["episodes"],
                                   config["rounds"], seed=seed)
        agent.save(run.path / "q_table.npz")

        values, optimal_q, _ = value_iteration(training_env.P, n_states, 2, discount=config["discount"])
        reachable = _reachable_states(training_env)
        learned = agent.greedy_policy()
        wrong = [training_env.decode(state) for state in reachable
                 if optimal_q[state, learned[state]] < values[state] - 1e-9]
        table = _policy_table(training_env, learned, optimal_q, values, reachable)
        start = training_env.encode(config["initial_battery"], 0, True)

        notes_env = RobotVacuum(initial_battery=config["initial_battery"], **physics)
        exploration = _exploration_study(config, notes_env, seed)
        _plot_exploration(exploration, run.path / "plots" / "exploration.png", config["initial_battery"])

        report = "\n".join([
            "# robot_vacuum", "",
            f"Greedy policy after {config['episodes']:,} episodes (E = explore, H = go home; * = not optimal):", "",
            table, "",
            f"From the notes' start ({config['initial_battery']} %): Q(explore) = {agent.q_table[start, 0]:.2f}, "
            f"Q(go home) = {agent.q_table[start, 1]:.2f}; optimum V = {values[start]:.2f}.",
            f"States reachable from a start: {len(reachable)}; learned action not optimal in {len(wrong)}.", "",
            "| ε | mean return while learning | greedy return after |", "|---|---|---|",
            *(f"| {row['epsilon']} | {row['training_return']:.2f} | {row['greedy_return']:.2f} |" for row in exploration),
        ]) + "\n"
        write_text(run.path / "report.md", report)
        print(report)
        metrics = {
            "policy_equals_optimum": not wrong, "non_optimal_states": len(wrong), "reachable_states": len(reachable),
            "notes_start": {"battery": config["initial_battery"], "q_explore": float(agent.q_table[start, 0]),
                            "q_go_home": float(agent.q_table[start, 1]), "optimal_value": float(values[start]),
                            "greedy_action": ACTION_NAMES[learned[start]]},
            "greedy_return_from_notes_start": float(evaluate_policy(notes_env, learned, 1, seed=seed)[0]),
            "final_round_mean_return": float(history["mean_return"].iloc[-1]),
            "exploration": exploration,
            "q_table": str(run.path / "q_table.npz"),
        }
        return run.finish(metrics)


def _reachable_states(env):
    """Non-terminal states reachable from any start (battery 10–100 % at the outlet, nothing clean)."""
    frontier = [env.encode(battery, 0, True) for battery in range(10, 101)]
    reachable = set()
    while frontier:
        state = frontier.pop()
        if state in reachable:
            continue
        reachable.add(state)
        frontier += [next_state for action in (0, 1) for _, next_state, _, done in env.P[state][action] if not done]
    return sorted(reachable)


def _policy_table(env, learned, optimal_q, values, reachable):
    """Battery levels with the same greedy actions grouped into one row; · = a state no start reaches."""
    columns = [("at the outlet, 0 clean", 0, True)] + [(f"in a room, {cleaned} clean", cleaned, False)
                                                       for cleaned in range(1, env.rooms + 1)]
    reachable = set(reachable)

    def cells(battery):
        row = []
        for _, cleaned, at_outlet in columns:
            state = env.encode(battery, cleaned, at_outlet)
            if state not in reachable:
                row.append("·")
            else:
                action = learned[state]
                row.append("EH"[action] + ("" if optimal_q[state, action] >= values[state] - 1e-9 else "*"))
        return tuple(row)

    groups = []  # [first battery, last battery, cells]
    for battery in range(101):
        row = cells(battery)
        if groups and groups[-1][2] == row:
            groups[-1][1] = battery
        else:
            groups.append([battery, battery, row])
    lines = ["| battery % | " + " | ".join(name for name, _, _ in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    lines += [f"| {first}–{last} | " + " | ".join(row) + " |" for first, last, row in groups]
    return "\n".join(lines)


def _exploration_study(config, env, seed):
    rows = []
    for epsilon in config["exploration_rates"]:
        agent = QLearning(env.observation_space.n, 2, learning_rate=config["learning_rate"],
                          discount=config["discount"], deterministic=config["deterministic_update"],
                          epsilon=float(epsilon), seed=seed)
        env.reset(seed=seed)
        returns = [agent.train_episode(env)[0] for _ in range(config["exploration_episodes"])]
        greedy = evaluate_policy(env, agent.greedy_policy(), 20, seed=seed).mean()
        rows.append({"epsilon": float(epsilon), "training_return": float(np.mean(returns)),
                     "greedy_return": float(greedy)})
    return rows


def _plot_exploration(rows, path, battery):
    figure, axis = plt.subplots(figsize=(6, 3.8))
    epsilons = [row["epsilon"] for row in rows]
    axis.plot(epsilons, [row["training_return"] for row in rows], marker="o", label="mean return while learning")
    axis.plot(epsilons, [row["greedy_return"] for row in rows], marker="s", label="greedy policy afterwards")
    axis.set_xlabel("exploration rate ε")
    axis.set_ylabel("return")
    axis.set_title(f"robot vacuum from {battery} % battery")
    axis.grid(alpha=0.3)
    axis.legend()
    save_figure(figure, path)
