package io.refractium;

/**
 * The totals of one tap ({@code RefractiumBuilder.tap}) since the instance started.
 *
 * @param tap the tap's class name
 * @param deliveredBytes bytes handed to the tap
 * @param droppedBytes bytes the tap did not get because its queue was full
 * @param droppedChunks how many reads those dropped bytes came in
 * @param queuedBytes bytes copied and waiting in the tap's queue now
 * @param maxQueuedBytes the queue's bound
 */
public record TapStatus(String tap, long deliveredBytes, long droppedBytes, long droppedChunks, long queuedBytes,
                        long maxQueuedBytes) {
}
