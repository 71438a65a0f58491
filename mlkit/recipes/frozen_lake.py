"""Tabular Q-learning on gymnasium's FrozenLake (not slippery and slippery) and CliffWalking, each
beside the value-iteration optimum on the same known transition model (SPEC §8).

- FrozenLake 4×4, not slippery: the notes' deterministic update; success rate over the evaluation
  episodes (goal 1.0).
- FrozenLake 4×4, slippery (each move goes sideways with probability 2/3): the stochastic update
  with α; success over 1,000 evaluation episodes (goal ≥ 0.70) beside the optimal policy's.
- CliffWalking: the learned greedy path against the optimal path (goal: equal).
Each task's Q-table is saved (`<task>/q_table.npz`) and its learning curve plotted.
"""

import numpy as np

from mlkit.io import write_text
from mlkit.rl import EpsilonSchedule, QLearning, evaluate_policy, make_environment, train_q_learning, value_iteration
from mlkit.training import start_run

DESCRIPTION = ("Q-learning on FrozenLake (deterministic and slippery) and CliffWalking against the value-iteration "
               "optimum: success rates, greedy paths.")

DEFAULTS = {
    "tasks": {
        "frozen_lake": {"environment": "FrozenLake-v1", "options": {"is_slippery": False}, "episodes": 2_000,
                        "deterministic_update": True, "learning_rate": 1.0, "discount": 0.99,
                        "epsilon_decay_episodes": 1_500},
        "frozen_lake_slippery": {"environment": "FrozenLake-v1", "options": {"is_slippery": True},
                                 "episodes": 20_000, "deterministic_update": False, "learning_rate": 0.1,
                                 "discount": 0.99, "epsilon_decay_episodes": 15_000},
        "cliff_walking": {"environment": "CliffWalking-v1", "options": {}, "episodes": 500,
                          "deterministic_update": True, "learning_rate": 1.0, "discount": 1.0,
                          "epsilon_decay_episodes": 300},
    },
    "epsilon_start": 1.0,
    "epsilon_end": 0.05,
    "rounds": 10,
    "evaluation_episodes": 1_000,
}


def run(config=None, overwrite=False):
    with start_run("frozen_lake", DEFAULTS, config, overwrite) as run:
        config, seed = run.config, run.config["seed"]
        results = {}
        for name, task in config["tasks"].items():
            environment = make_environment(task["environment"], **task["options"])
            n_states, n_actions = environment.observation_space.n, environment.action_space.n
            agent = QLearning(n_states, n_actions, learning_rate=task["learning_rate"], discount=task["discount"],
                              deterministic=task["deterministic_update"], seed=seed,
                              epsilon=EpsilonSchedule(config["epsilon_start"], config["epsilon_end"],
                                                      task["epsilon_decay_episodes"]))
            child = run.child(name)
            train_q_learning(agent, environment, child, task["episodes"], config["rounds"], seed=seed)
            agent.save(child.path / "q_table.npz")
            _, _, optimal = value_iteration(environment.unwrapped.P, n_states, n_actions, discount=task["discount"])
            learned_returns = evaluate_policy(environment, agent.greedy_policy(), config["evaluation_episodes"],
                                              seed=seed)
            optimal_returns = evaluate_policy(environment, optimal, config["evaluation_episodes"], seed=seed)
            result = {"environment": task["environment"], **task["options"], "episodes": task["episodes"],
                      "mean_return": float(learned_returns.mean()),
                      "optimal_mean_return": float(optimal_returns.mean())}
            if task["environment"].startswith("FrozenLake"):
                result["success_rate"] = float(np.mean(learned_returns > 0))
                result["optimal_success_rate"] = float(np.mean(optimal_returns > 0))
            else:
                learned_path = _greedy_path(environment, agent.greedy_policy(), seed)
                optimal_path = _greedy_path(environment, optimal, seed)
                result.update(path=learned_path, optimal_path=optimal_path, path_is_optimal=learned_path == optimal_path)
            results[name] = result
        lines = ["# frozen_lake", "", "| task | episodes | learned | optimum (value iteration) |", "|---|---|---|---|"]
        for name, result in results.items():
            if "success_rate" in result:
                lines.append(f"| {name} | {result['episodes']:,} | success {result['success_rate']:.3f} | "
                             f"success {result['optimal_success_rate']:.3f} |")
            else:
                lines.append(f"| {name} | {result['episodes']:,} | return {result['mean_return']:.0f}, path "
                             f"{'=' if result['path_is_optimal'] else '≠'} optimal | return "
                             f"{result['optimal_mean_return']:.0f} |")
        report = "\n".join(lines) + "\n"
        write_text(run.path / "report.md", report)
        print(report)
        return run.finish({"tasks": results, "evaluation_episodes": config["evaluation_episodes"]})


def _greedy_path(environment, policy, seed, limit=200):
    """States visited by the greedy policy from the start (deterministic environments)."""
    state, _ = environment.reset(seed=seed)
    path, done = [int(state)], False
    while not done and len(path) < limit:
        state, _, terminated, truncated, _ = environment.step(int(policy[state]))
        path.append(int(state))
        done = terminated or truncated
    return path
