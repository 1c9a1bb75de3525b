package io.refractium.hook;

/** A hook's answer when a connection is accepted. */
public enum Admission {
    /** Go on with detection. */
    ACCEPT,
    /** Close the connection at once. */
    REFUSE
}
