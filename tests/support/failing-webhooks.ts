// Stands in for a state change that fails for a reason an operator can fix (a missing migration, a
// constraint a handler trips): while BREAK_APPLYING is in place, the database refuses to mark
// session.open events applied; FIX_APPLYING removes the cause (and is safe to run when absent).

export const BREAK_APPLYING = `
  CREATE FUNCTION refuse_apply() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'sessions table is being migrated'; END $$;
  CREATE TRIGGER refuse_apply BEFORE UPDATE ON webhook_events FOR EACH ROW
    WHEN (NEW.applied_at IS NOT NULL AND NEW.type = 'session.open.success')
    EXECUTE FUNCTION refuse_apply();`

export const FIX_APPLYING = `
  DROP TRIGGER IF EXISTS refuse_apply ON webhook_events;
  DROP FUNCTION IF EXISTS refuse_apply();`
