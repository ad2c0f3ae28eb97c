// The hand-off job: posts a license's signed hand-off to LICENSE_WEBHOOK_URL once, then marks the license.

import type { Job } from 'bullmq';
import type { Config } from '../config.js';
import type { LicenseApi } from '../keycrate/licenses.js';
import { markHandedOff } from '../keycrate/record.js';
import type { Logger } from '../log.js';
import { asJobError } from './failures.js';
import { deliverHandoff, type BulkNotification, type HandoffPayload } from './handoff.js';

/** A license's hand-off, or a bulk job's notification to its own URL. */
export type HandoffJobData = (HandoffPayload & { delivered?: boolean }) | (BulkNotification & { url: string });

export function handoffJob(config: Config, log: Logger, api: LicenseApi, scrub: (text: string) => string): (job: Job<HandoffJobData>) => Promise<void> {
	return async (job) => {
		if (job.data.type === 'bulk_job.completed') {
			const { url, ...notification } = job.data;
			try {
				await deliverHandoff(config, notification, Date.now(), url);
				log.info({ jobId: notification.id }, 'bulk job notification delivered');
			} catch (error) {
				log.warn({ jobId: notification.id, attempt: job.attemptsMade + 1, err: (error as Error).message }, 'bulk job notification failed');
				throw asJobError(error, scrub);
			}
			return;
		}
		const data = job.data;
		const licenseKey = data.data.license_key;
		try {
			// A retry after the post was taken only marks: the receiver is not posted to again.
			if (data.delivered !== true) {
				// A license deleted meanwhile (a duplicate cleaned up) is not handed off: the kept one is.
				if ((await api.getLicense(licenseKey)) === null) {
					log.info({ licenseKey }, 'hand-off dropped: the license no longer exists');
					return;
				}
				await deliverHandoff(config, data);
				await job.updateData({ ...data, delivered: true });
				log.info({ licenseKey }, 'license handed off');
			}
			await markHandedOff(api, licenseKey);
		} catch (error) {
			log.warn({ licenseKey, attempt: job.attemptsMade + 1, err: (error as Error).message }, 'hand-off failed');
			throw asJobError(error, scrub);
		}
	};
}
