package jp.kiroku.ledger;

import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;

import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoVerifierBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TSPException;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampRequestGenerator;
import org.bouncycastle.tsp.TimeStampResponse;
import org.bouncycastle.tsp.TimeStampToken;

/**
 * RFC 3161 time-stamps of signed checkpoints from an outside time-stamping authority (kiroku.ledger.tsa-url): proof,
 * independent of Kiroku's own clock and key, that a checkpoint existed by the TSA's time.
 */
final class TimeStamps {

    /** A verified time-stamp: when, and by whom (the TSA certificate's subject). */
    record Stamp(Instant time, String authority) {
    }

    private final URI tsa;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final SecureRandom random = new SecureRandom();

    TimeStamps(URI tsa) {
        this.tsa = tsa;
    }

    /** Asks the TSA to stamp {@code note}; the DER-encoded time-stamp token, checked against the request. */
    byte[] stamp(String note) throws IOException, InterruptedException {
        TimeStampRequestGenerator gen = new TimeStampRequestGenerator();
        gen.setCertReq(true); // the token carries the TSA certificate, so it can be checked on its own later
        TimeStampRequest request = gen.generate(TSPAlgorithms.SHA256, sha256(note), new BigInteger(64, random));
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(tsa).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/timestamp-query")
                .POST(HttpRequest.BodyPublishers.ofByteArray(request.getEncoded())).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) {
            throw new IOException("the TSA " + tsa + " answered HTTP " + r.statusCode());
        }
        try {
            TimeStampResponse response = new TimeStampResponse(r.body());
            response.validate(request); // status granted, our imprint and nonce
            if (response.getTimeStampToken() == null) {
                throw new IOException("the TSA " + tsa + " refused: " + response.getStatusString());
            }
            return response.getTimeStampToken().getEncoded();
        } catch (TSPException e) {
            throw new IOException("the TSA " + tsa + " answered an unusable time-stamp: " + e.getMessage(), e);
        }
    }

    /**
     * Checks a stored token against {@code note}: its imprint is the note's SHA-256 and its signature verifies with
     * the TSA certificate it carries. Trusting that certificate (the TSA's chain) is the auditor's call.
     */
    static Stamp verify(byte[] token, String note) {
        try {
            TimeStampToken t = new TimeStampToken(new org.bouncycastle.cms.CMSSignedData(token));
            if (!MessageDigest.isEqual(t.getTimeStampInfo().getMessageImprintDigest(), sha256(note))) {
                throw new IllegalArgumentException("the time-stamp is over another text than this checkpoint");
            }
            @SuppressWarnings("unchecked")
            Collection<X509CertificateHolder> certs = t.getCertificates().getMatches(t.getSID());
            if (certs.isEmpty()) {
                throw new IllegalArgumentException("the time-stamp carries no TSA certificate");
            }
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(certs.iterator().next());
            t.validate(new JcaSimpleSignerInfoVerifierBuilder().build(cert));
            return new Stamp(t.getTimeStampInfo().getGenTime().toInstant(), cert.getSubjectX500Principal().getName());
        } catch (IllegalArgumentException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalArgumentException("the time-stamp does not verify: " + e.getMessage(), e);
        }
    }

    private static byte[] sha256(String note) {
        return MerkleHash.sha256().digest(note.getBytes(StandardCharsets.UTF_8));
    }
}
