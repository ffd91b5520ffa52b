"""Training: Stable-Baselines3 PPO / DQN on emurl envs (config, model, run, callbacks,
evaluation) and behaviour cloning from datasets. Knows envs, vector and imitation, never
games or emulators directly."""
