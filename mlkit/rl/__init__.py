"""Reinforcement learning (SPEC §8): the notes' robot vacuum, tabular Q-learning, value iteration."""

from mlkit.rl.environments import ACTION_NAMES, TOY_TEXT, RobotVacuum, make_environment
from mlkit.rl.q_learning import EpsilonSchedule, QLearning, evaluate_policy, train_q_learning, value_iteration

__all__ = ["ACTION_NAMES", "TOY_TEXT", "EpsilonSchedule", "QLearning", "RobotVacuum", "evaluate_policy",
           "make_environment", "train_q_learning", "value_iteration"]
