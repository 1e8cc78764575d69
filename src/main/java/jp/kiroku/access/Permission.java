package jp.kiroku.access;

/** The SMART v2 permission letters: create, read, update, delete, search. */
public enum Permission {
    CREATE('c'), READ('r'), UPDATE('u'), DELETE('d'), SEARCH('s');

    private final char letter;

    Permission(char letter) {
        this.letter = letter;
    }

    public char letter() {
        return letter;
    }

    static Permission of(char c) {
        for (Permission p : values()) {
            if (p.letter == c) {
                return p;
            }
        }
        throw new IllegalArgumentException("not a SMART permission letter: " + c);
    }
}
