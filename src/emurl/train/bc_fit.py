"""The fitting loops of behaviour cloning (:mod:`emurl.train.bc`): :func:`fit_steps` for PPO's
feed-forward policy on shuffled steps, :func:`fit_sequences` for a recurrent policy.

Recurrent: sb3-contrib's ``RecurrentActorCriticPolicy``
(RecurrentPPO's ``CnnLstmPolicy`` / ``MlpLstmPolicy``) fitted to a dataset's actions by
truncated backpropagation through time, as MarI/O Kart's supervised trainer and
SethBling's MariFlow train their LSTMs on recorded play.

Each episode's training steps are cut into consecutive sequences of ``seq_len`` steps
(the last one shorter, padded and masked). A gradient step takes a minibatch of
sequences, each started from the LSTM state the policy had reached at its first step
when run over the episode from the beginning, so gradients flow back ``seq_len`` steps
and no further, while the policy still learns to act on a long history. Those starting
states are recomputed with the current weights before every epoch, in one pass over
every episode from a zero state (what RecurrentPPO's rollout buffer stores is the same:
the state each sequence started from when it was played). That pass is also how the
policy acts when it plays (``model.predict`` with its state carried from the episode's
start), so its accuracies are the ones reported.

Loss: cross-entropy of the action logits on the dataset's actions plus ``value_coef`` ×
the mean squared error of the value head on each step's discounted return, both over the
unpadded steps.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
from sb3_contrib.common.recurrent.type_aliases import RNNStates
from tqdm import tqdm


def _forward(policy, obs):
    """(action logits (N, A), values (N, 1)) of an SB3 ActorCriticPolicy, with one pass of the
    trunk (what ``policy.evaluate_actions`` computes, with the logits kept)."""
    features = policy.extract_features(obs)
    if isinstance(features, tuple):  # separate actor and critic feature extractors
        latent_pi = policy.mlp_extractor.forward_actor(features[0])
        latent_vf = policy.mlp_extractor.forward_critic(features[1])
    else:
        latent_pi, latent_vf = policy.mlp_extractor(features)
    return policy.action_net(latent_pi), policy.value_net(latent_vf)


def fit_steps(policy, ds, returns, train_idx, val_idx, cfg, *, epochs, batch_size, learning_rate, value_coef,
              rng, progress, log, seq_len=None) -> dict:
    """Fit a feed-forward SB3 ``ActorCriticPolicy`` on minibatches of shuffled steps of the
    dataset ``ds`` (cross-entropy, plus ``value_coef`` × the value head's squared error on
    ``returns``); a tqdm bar with ``progress``. Returns what :func:`fit_sequences` does."""
    device = policy.device
    actions_t = torch.as_tensor(ds.actions, dtype=torch.long)
    returns_t = torch.as_tensor(returns)
    opt = torch.optim.Adam(policy.parameters(), lr=learning_rate, eps=1e-5)

    def batch(idx):
        idx = np.sort(idx)
        return (torch.as_tensor(ds.obs[idx]).to(device), actions_t[idx].to(device), returns_t[idx].to(device))

    @torch.no_grad()
    def evaluate(idx) -> tuple[float | None, float | None]:
        if len(idx) == 0:
            return None, None
        policy.set_training_mode(False)
        correct, loss = 0, 0.0
        for i in range(0, len(idx), 512):
            obs, act, _ = batch(idx[i:i + 512])
            dist = policy.get_distribution(obs).distribution
            correct += int((dist.logits.argmax(-1) == act).sum())
            loss += float(-dist.log_prob(act).sum())
        return correct / len(idx), loss / len(idx)

    history = []
    per_epoch = (len(train_idx) + batch_size - 1) // batch_size
    bar = tqdm(total=epochs * per_epoch, unit="batch", desc="behaviour cloning", disable=not progress)
    try:
        for epoch in range(1, epochs + 1):
            t0 = time.time()
            policy.set_training_mode(True)
            order = rng.permutation(train_idx)
            total_loss, correct, seen = 0.0, 0, 0
            for i in range(0, len(order), batch_size):
                obs, act, ret = batch(order[i:i + batch_size])
                logits, values = _forward(policy, obs)
                ce = torch.nn.functional.cross_entropy(logits, act)
                loss = ce
                if value_coef:
                    loss = loss + value_coef * torch.nn.functional.mse_loss(values.flatten(), ret)
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(policy.parameters(), cfg.max_grad_norm or 10.0)
                opt.step()
                correct += int((logits.detach().argmax(-1) == act).sum())
                total_loss += float(ce.detach()) * len(act)
                seen += len(act)
                bar.update(1)
            val_acc, val_loss = evaluate(val_idx)
            row = {"epoch": epoch, "loss": total_loss / max(seen, 1), "train_accuracy": correct / max(seen, 1),
                   "val_accuracy": val_acc, "val_loss": val_loss, "seconds": round(time.time() - t0, 2)}
            history.append(row)
            (bar.write if progress and log is print else log)(f"epoch {epoch}/{epochs}: loss {row['loss']:.3f}"
                + f", training accuracy {row['train_accuracy']:.3f}"
                + (f", validation accuracy {val_acc:.3f} (loss {val_loss:.3f})" if val_acc is not None else ""))
    finally:
        bar.close()
    train_acc, train_loss = evaluate(train_idx)
    val_acc, val_loss = evaluate(val_idx)
    return {"history": history, "train_accuracy": train_acc, "train_loss": train_loss, "val_accuracy": val_acc,
            "val_loss": val_loss}


@torch.no_grad()
def start_at_prior(policy, actions: np.ndarray, returns: np.ndarray) -> None:
    """Set the action head's bias to the log-frequencies of ``actions`` (int64 (N,), counts
    + 1, centred) and the value head's bias to the mean of ``returns`` (float32 (N,)), so
    that cloning starts where it would first plateau (predicting the actions' overall
    frequencies and the mean return) instead of climbing there.

    Why: until it gets there, every step's gradient points the same way, and Adam, which
    moves every weight by about the learning rate whatever the gradient's size, then grows
    the 3136 x 512 CNN features' layer coherently. Behind an LSTM that saturates its gates:
    cloning 1,700 steps of the MiniKart autopilot into recurrent PPO's CnnLstmPolicy blew
    the features up from 0.18 to 15 (mean |value|) within 30 gradient steps, the CNN's
    gradients fell to ~1e-7 and the policy never left the majority action (accuracy 0.70
    for 60 epochs, at learning rates 3e-5 to 1e-3). Started at the prior it reached 0.94
    training accuracy within 300 gradient steps at 1e-3 (features ~0.5)."""
    counts = np.bincount(np.asarray(actions, np.int64), minlength=policy.action_net.out_features) + 1.0
    logp = np.log(counts / counts.sum())
    policy.action_net.bias.copy_(torch.as_tensor(logp - logp.mean(), dtype=policy.action_net.bias.dtype))
    if len(returns):
        policy.value_net.bias.fill_(float(np.mean(returns)))


def _zero_states(policy, n_seq: int) -> RNNStates:
    """Zero LSTM states of ``n_seq`` sequences for the actor and the critic: each
    (layers, n_seq, hidden) float32 on the policy's device."""
    shape = (policy.lstm_actor.num_layers, n_seq, policy.lstm_actor.hidden_size)
    z = lambda: torch.zeros(shape, device=policy.device)  # noqa: E731
    return RNNStates((z(), z()), (z(), z()))


def forward_sequences(policy, obs: torch.Tensor, states: RNNStates) -> tuple[torch.Tensor, torch.Tensor, RNNStates]:
    """The action logits (n_seq × L, A), values (n_seq × L, 1) and final LSTM states of
    ``n_seq`` sequences of ``L`` steps, ``obs`` sequence-major ((n_seq × L, *obs shape): the
    first sequence's steps, then the second's, ...), none of which starts an episode
    mid-way; what ``RecurrentActorCriticPolicy.evaluate_actions`` computes, with the
    logits and states kept."""
    features = policy.extract_features(obs)
    pi_features, vf_features = (features, features) if policy.share_features_extractor else features
    no_starts = torch.zeros(obs.shape[0], device=obs.device)
    latent_pi, pi_states = policy._process_sequence(pi_features, states.pi, no_starts, policy.lstm_actor)
    vf_states = states.vf
    if policy.lstm_critic is not None:
        latent_vf, vf_states = policy._process_sequence(vf_features, states.vf, no_starts, policy.lstm_critic)
    elif policy.shared_lstm:
        latent_vf = latent_pi.detach()
    else:
        latent_vf = policy.critic(vf_features)
    logits = policy.action_net(policy.mlp_extractor.forward_actor(latent_pi))
    values = policy.value_net(policy.mlp_extractor.forward_critic(latent_vf))
    return logits, values, RNNStates(pi_states, vf_states)


def _detach(states: RNNStates) -> RNNStates:
    return RNNStates(tuple(s.detach() for s in states.pi), tuple(s.detach() for s in states.vf))


@torch.no_grad()
def play_through(policy, obs: np.ndarray, actions: np.ndarray, episodes: list[slice], seq_len: int):
    """Run the policy over every episode from a zero state, ``seq_len`` steps at a time.

    Returns:
        (states, hits, nll): ``states``: step index → the (detached) LSTM states before
        that step, for each episode's steps ``start + k × seq_len``; ``hits``: bool (N,),
        the most likely action is the dataset's; ``nll``: float64 (N,), its negative log-likelihood.
    """
    policy.set_training_mode(False)
    states, hits, nll = {}, np.zeros(len(actions), bool), np.zeros(len(actions))
    for ep in episodes:
        state = _zero_states(policy, 1)
        for s in range(ep.start, ep.stop, seq_len):
            e = min(s + seq_len, ep.stop)
            states[s] = state
            logits, _, state = forward_sequences(policy, torch.as_tensor(obs[s:e]).to(policy.device), state)
            act = torch.as_tensor(actions[s:e], dtype=torch.long, device=policy.device)
            hits[s:e] = (logits.argmax(-1) == act).cpu().numpy()
            nll[s:e] = torch.nn.functional.cross_entropy(logits.float(), act, reduction="none").cpu().numpy()
    return states, hits, nll


def fit_sequences(policy, obs: np.ndarray, actions: np.ndarray, returns: np.ndarray, episodes: list[slice],
                  train_idx: np.ndarray, val_idx: np.ndarray, *, seq_len: int, epochs: int, batch_size: int,
                  learning_rate: float, value_coef: float, max_grad_norm: float, rng: np.random.Generator,
                  log: Callable[[str], None], tick: Callable[[], None] = lambda: None) -> dict:
    """Fit ``policy`` (a ``RecurrentActorCriticPolicy``) by truncated backpropagation
    through ``seq_len`` steps (module doc).

    Args:
        obs: uint8 (N, *observation shape); actions: int64 (N,); returns: float32 (N,).
        episodes: one slice of step indices per episode, in order.
        train_idx, val_idx: the training and validation steps; each episode's training
            steps come before its validation steps (:func:`emurl.train.bc.split_steps`).
        batch_size: steps per gradient step: ``max(1, batch_size // seq_len)`` sequences.
        tick: called after each gradient step (a progress bar).

    Returns:
        ``history`` (one dict per epoch, as :class:`~emurl.train.bc.BCResult`'s), and the
        final ``train_accuracy``, ``train_loss``, ``val_accuracy``, ``val_loss`` (None
        without validation steps), the policy played from each episode's start.
    """
    train_set = np.zeros(len(actions), bool)
    train_set[train_idx] = True
    sequences = [(s, min(s + seq_len, ep.stop)) for ep in episodes for s in range(ep.start, ep.stop, seq_len)
                 if train_set[s]]
    sequences = [(s, e if train_set[s:e].all() else s + int(np.argmin(train_set[s:e]))) for s, e in sequences]
    per_batch = max(1, batch_size // seq_len)
    device = policy.device
    obs_all = torch.as_tensor(obs)
    act_all = torch.as_tensor(actions, dtype=torch.long)
    ret_all = torch.as_tensor(returns, dtype=torch.float32)
    opt = torch.optim.Adam(policy.parameters(), lr=learning_rate, eps=1e-5)

    def scores(hits, nll, idx):
        return (float(hits[idx].mean()), float(nll[idx].mean())) if len(idx) else (None, None)

    history = []
    for epoch in range(1, epochs + 1):
        t0 = time.time()
        starts, _, _ = play_through(policy, obs, actions, episodes, seq_len)  # the states the sequences start from
        policy.set_training_mode(True)
        order = rng.permutation(len(sequences))
        total_loss, correct, seen = 0.0, 0, 0
        for b in range(0, len(order), per_batch):
            chosen = [sequences[i] for i in order[b:b + per_batch]]
            # sequence-major steps, each sequence padded to seq_len with its last step (masked out)
            idx = np.array([min(s + k, e - 1) for s, e in chosen for k in range(seq_len)])
            mask = torch.as_tensor(np.array([k < e - s for s, e in chosen for k in range(seq_len)]), device=device)
            first = [starts[s] for s, _ in chosen]
            state = RNNStates(tuple(torch.cat([f.pi[j] for f in first], 1) for j in range(2)),
                              tuple(torch.cat([f.vf[j] for f in first], 1) for j in range(2)))
            act = act_all[idx].to(device)
            logits, values, _ = forward_sequences(policy, obs_all[idx].to(device), _detach(state))
            ce = torch.nn.functional.cross_entropy(logits.float()[mask], act[mask])
            loss = ce
            if value_coef:
                loss = loss + value_coef * torch.nn.functional.mse_loss(values.flatten()[mask], ret_all[idx].to(device)[mask])
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(policy.parameters(), max_grad_norm)
            opt.step()
            n = int(mask.sum())
            correct += int((logits.detach().argmax(-1) == act)[mask].sum())
            total_loss += float(ce.detach()) * n
            seen += n
            tick()
        _, hits, nll = play_through(policy, obs, actions, episodes, seq_len)
        val_acc, val_loss = scores(hits, nll, val_idx)
        history.append({"epoch": epoch, "loss": total_loss / max(seen, 1), "train_accuracy": correct / max(seen, 1),
                        "val_accuracy": val_acc, "val_loss": val_loss, "seconds": round(time.time() - t0, 2)})
        log(f"epoch {epoch}/{epochs}: loss {history[-1]['loss']:.3f}, training accuracy "
            f"{history[-1]['train_accuracy']:.3f}"
            + (f", validation accuracy {val_acc:.3f} (loss {val_loss:.3f})" if val_acc is not None else ""))
    _, hits, nll = play_through(policy, obs, actions, episodes, seq_len)
    train_acc, train_loss = scores(hits, nll, train_idx)
    val_acc, val_loss = scores(hits, nll, val_idx)
    return {"history": history, "train_accuracy": train_acc, "train_loss": train_loss, "val_accuracy": val_acc,
            "val_loss": val_loss}


def sequence_probabilities(policy, obs: np.ndarray, episode_starts: np.ndarray | None = None,
                           chunk: int = 256) -> np.ndarray:
    """float32 (N, A): the action probabilities of a recurrent policy playing ``obs`` (uint8
    (N, *observation shape)) in order, its state carried from step to step from a zero
    state, and reset where ``episode_starts`` (bool (N,)) is set: what ``model.predict``
    gives step by step with ``state`` and ``episode_start`` carried."""
    starts = np.zeros(len(obs), bool) if episode_starts is None else np.asarray(episode_starts, bool)
    bounds = sorted({0, *np.flatnonzero(starts).tolist(), len(obs)})
    out = []
    policy.set_training_mode(False)
    with torch.no_grad():
        for a, b in zip(bounds, bounds[1:]):
            state = _zero_states(policy, 1)
            for s in range(a, b, chunk):  # the state carried over: the same as one pass, in bounded memory
                logits, _, state = forward_sequences(policy, torch.as_tensor(np.asarray(obs[s:min(s + chunk, b)]))
                                                     .to(policy.device), state)
                out.append(torch.softmax(logits.float(), -1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, policy.action_space.n), np.float32)


__all__ = ["fit_sequences", "fit_steps", "forward_sequences", "play_through", "sequence_probabilities", "start_at_prior"]
