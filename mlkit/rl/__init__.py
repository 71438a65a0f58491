"""Reinforcement learning (SPEC §8): the notes' robot vacuum, tabular Q-learning, value iteration, DQN."""

from mlkit.rl.dqn import DQN, ReplayBuffer, evaluate_greedy, greedy_function, make_vector_environment, train_dqn
from mlkit.rl.environments import ACTION_NAMES, TOY_TEXT, RobotVacuum, make_environment
from mlkit.rl.q_learning import EpsilonSchedule, QLearning, evaluate_policy, train_q_learning, value_iteration

__all__ = ["ACTION_NAMES", "DQN", "TOY_TEXT", "EpsilonSchedule", "QLearning", "ReplayBuffer", "RobotVacuum",
           "evaluate_greedy", "evaluate_policy", "greedy_function", "make_environment", "make_vector_environment",
           "train_dqn", "train_q_learning", "value_iteration"]
