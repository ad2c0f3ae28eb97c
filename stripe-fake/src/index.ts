// Placeholder: the Stripe fake is being built (issue 7).
export {};
