/**
 * PostgreSQL detection: {@link io.refractium.protocols.postgres.PostgresDetector} recognizes the first message of a
 * PostgreSQL client (StartupMessage, SSLRequest, GSSENCRequest or CancelRequest) and reports the user, database and
 * application name of a StartupMessage.
 */
package io.refractium.protocols.postgres;
