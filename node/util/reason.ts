/** The header (and session CallError field) carrying an error's stable reason, e.g. NOT_LEADER. */
export const reasonHeader = "juraft-reason";
