"""Learned time-step selection for the chaotic three-body problem (Gymnasium + Stable-Baselines3).

Importing the package registers the environment id ``adaptsim/ThreeBody-v0``::

    import gymnasium as gym
    import rl_agents  # noqa: F401
    env = gym.make("adaptsim/ThreeBody-v0", observation="paper", reward="paper")
"""

from rl_agents.envs import register_envs

register_envs()
