-- LOG-03: every signed checkpoint records the clock's state when it was signed (time source, offset, synchronised).
ALTER TABLE ledger_checkpoint ADD COLUMN clock text;
