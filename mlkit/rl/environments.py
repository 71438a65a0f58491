"""The notes' robot vacuum as a gymnasium environment, and gymnasium's toy-text environments by name.

The notes (SPEC §8): the robot has 30 % battery; cleaning a room it has never been to costs 19 %;
going from where it is to the outlet costs 10 %. Explore or go back?

MDP of `RobotVacuum` (battery in whole percent):

| | |
|---|---|
| state | (battery 0–100 %, rooms cleaned 0–N, at the outlet or not), one `Discrete` index |
| action 0, explore | go to a room never visited and clean it: battery −19 %, reward +10 (if every room is clean: −19 %, reward −1, wasted battery) |
| action 1, go home | go to the outlet: battery −10 % (0 % if already there); the episode ends, a success |
| failure | an action that needs more battery than is left: the robot stops on the way, reward −100, the episode ends |

Exploring pays only while the battery covers the room *and* the way home: at 30 % one room is worth
it (30 → 11 → 1 %), at 28 % it is not (28 → 9 %, and the way home needs 10 %). With a battery of b %,
the best plan cleans ⌊(b − 10) / 19⌋ rooms (at most N) and goes home. `cost_noise` makes a room cost
29 % with that probability (a stuck brush), for the stochastic update.
"""

import gymnasium as gym
import numpy as np

EXPLORE, GO_HOME = 0, 1
ACTION_NAMES = ("explore", "go home")


class RobotVacuum(gym.Env):
    """The robot vacuum MDP above (see the module docstring).

    Args:
        rooms: rooms that can be cleaned (N).
        initial_battery: battery at `reset` in % (the notes' 30), or None for a random level in
            10–100 % at every reset (exploring starts, so that Q-learning sees every battery level).
        room_cost, home_cost: battery per room and for the way home, in %.
        room_reward, failure_reward: reward for a newly cleaned room and for running out of battery.
        cost_noise: probability that a room costs 10 % more.

    The transition model is `P[state][action] = [(probability, next_state, reward, terminated), …]`,
    as in gymnasium's toy-text environments, for value iteration.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, rooms=3, initial_battery=30, room_cost=19, home_cost=10, room_reward=10.0,
                 failure_reward=-100.0, cost_noise=0.0, render_mode=None):
        for name, value in (("rooms", rooms), ("room_cost", room_cost), ("home_cost", home_cost)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= 100:
                raise ValueError(f"`{name}` must be an integer in 1–100, got {value!r}.")
        if initial_battery is not None and (isinstance(initial_battery, bool)
                                            or not isinstance(initial_battery, (int, np.integer))
                                            or not 0 <= initial_battery <= 100):
            raise ValueError(f"`initial_battery` must be None or an integer in 0–100 (%), got {initial_battery!r}.")
        if not 0 <= cost_noise <= 1:
            raise ValueError(f"`cost_noise` must be a probability in [0, 1], got {cost_noise!r}.")
        self.rooms, self.initial_battery = int(rooms), initial_battery
        self.room_cost, self.home_cost = int(room_cost), int(home_cost)
        self.room_reward, self.failure_reward, self.cost_noise = float(room_reward), float(failure_reward), cost_noise
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Discrete(101 * (self.rooms + 1) * 2)
        self.action_space = gym.spaces.Discrete(2)
        self.P = {state: {action: self._outcomes(state, action) for action in (EXPLORE, GO_HOME)}
                  for state in range(self.observation_space.n)}
        self.state = None

    # state index ↔ (battery, cleaned, at_outlet)
    def encode(self, battery, cleaned, at_outlet):
        return (int(battery) * (self.rooms + 1) + int(cleaned)) * 2 + int(at_outlet)

    def decode(self, state):
        state, at_outlet = divmod(int(state), 2)
        battery, cleaned = divmod(state, self.rooms + 1)
        return battery, cleaned, bool(at_outlet)

    def _outcomes(self, state, action):
        battery, cleaned, at_outlet = self.decode(state)
        if action == GO_HOME:
            cost = 0 if at_outlet else self.home_cost
            if cost > battery:
                return [(1.0, self.encode(0, cleaned, False), self.failure_reward, True)]
            return [(1.0, self.encode(battery - cost, cleaned, True), 0.0, True)]
        outcomes = []
        for probability, cost in ((1.0 - self.cost_noise, self.room_cost), (self.cost_noise, self.room_cost + 10)):
            if probability == 0:
                continue
            if cost > battery:
                outcomes.append((probability, self.encode(0, cleaned, False), self.failure_reward, True))
            elif cleaned < self.rooms:
                outcomes.append((probability, self.encode(battery - cost, cleaned + 1, False), self.room_reward, False))
            else:
                outcomes.append((probability, self.encode(battery - cost, cleaned, False), -1.0, False))
        return outcomes

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        battery = self.initial_battery
        if options and "battery" in options:
            battery = int(options["battery"])
        elif battery is None:
            battery = int(self.np_random.integers(10, 101))
        self.state = self.encode(battery, 0, True)
        return self.state, {"battery": battery}

    def step(self, action):
        if self.state is None:
            raise RuntimeError("Call reset() before step().")
        if not self.action_space.contains(action):
            raise ValueError(f"`action` must be 0 (explore) or 1 (go home), got {action!r}.")
        outcomes = self.P[self.state][int(action)]
        index = self.np_random.choice(len(outcomes), p=[outcome[0] for outcome in outcomes]) if len(outcomes) > 1 else 0
        _, self.state, reward, terminated = outcomes[index]
        battery, cleaned, at_outlet = self.decode(self.state)
        return self.state, reward, terminated, False, {"battery": battery, "cleaned": cleaned}

    def render(self):
        battery, cleaned, at_outlet = self.decode(self.state)
        return f"battery {battery}%, {cleaned}/{self.rooms} rooms clean, {'at the outlet' if at_outlet else 'in a room'}"


TOY_TEXT = ("FrozenLake-v1", "FrozenLake8x8-v1", "CliffWalking-v1", "Taxi-v4")


def make_environment(name, **kwargs):
    """"RobotVacuum" or one of gymnasium's toy-text environments (no downloads), by name."""
    if name == "RobotVacuum":
        return RobotVacuum(**kwargs)
    if name not in TOY_TEXT:
        raise ValueError(f"`environment` must be one of RobotVacuum, {', '.join(TOY_TEXT)}; got {name!r}.")
    return gym.make(name, **kwargs)
