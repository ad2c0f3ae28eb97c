// The hand-off job: posts a license's signed hand-off to LICENSE_WEBHOOK_URL once, then marks the license.

import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import type { LicenseApi } from '../keycrate/licenses.js';
import { markHandedOff } from '../keycrate/record.js';
import type { Logger } from '../log.js';
import { asJobError } from './failures.js';
import { deliverHandoff, type HandoffPayload } from './handoff.js';

export type HandoffJobData = HandoffPayload & { delivered?: boolean };

export function handoffJob(config: Config, log: Logger, api: LicenseApi, scrub: (text: string) => string): (job: Job<HandoffJobData>) => Promise<void> {
	return async (job) => {
		const licenseKey = job.data.data.license_key;
		try {
			// A retry after the post was taken only marks: the receiver is not posted to again.
			if (job.data.delivered !== true) {
				// A license deleted meanwhile (a duplicate cleaned up) is not handed off: the kept one is.
				if ((await api.getLicense(licenseKey)) === null) {
					log.info({ licenseKey }, 'hand-off dropped: the license no longer exists');
					return;
				}
				await deliverHandoff(config, job.data);
				await job.updateData({ ...job.data, delivered: true });
				log.info({ licenseKey }, 'license handed off');
			}
			await markHandedOff(api, licenseKey);
		} catch (error) {
			log.warn({ licenseKey, attempt: job.attemptsMade + 1, err: (error as Error).message }, 'hand-off failed');
			throw asJobError(error, scrub);
		}
	};
}
