/**
 * What the package does, actions and trigger. n8n's node panel shows the action node and the
 * Keycrate Trigger as one entry and gives it the trigger's description, so both nodes carry this.
 */
export const PACKAGE_DESCRIPTION =
	'Create, extend, pause and delete Keycrate license keys, bind hardware IDs and manage subscription tiers; the Keycrate Trigger starts workflows on new or expiring licenses';
