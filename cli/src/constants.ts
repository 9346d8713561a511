// Names the CLI shares with the agent; the type checks keep them equal to the contracts'.
import type { TMUX_SOCKET as SHARED_TMUX_SOCKET } from '@nightshift/shared';

/** The local agent's tmux socket name (`tmux -L nightshift`), unless NIGHTSHIFT_TMUX_SOCKET says otherwise. */
export const TMUX_SOCKET = 'nightshift' satisfies typeof SHARED_TMUX_SOCKET;
