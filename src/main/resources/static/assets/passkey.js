// Passkeys (WebAuthn): fills a form[data-passkey] with the authenticator's answer and submits it.
// data-passkey="create" registers a new passkey, "get" proves possession of one at login. Binary values travel
// as base64url; the server verifies everything (challenge, origin, relying party, signature, counter).
(function () {
  'use strict';
  function fromB64(s) {
    var b = atob(s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) { out[i] = b.charCodeAt(i); }
    return out.buffer;
  }
  function toB64(buf) {
    var bytes = new Uint8Array(buf), s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function ids(list) {
    return (list || '').split(',').filter(function (x) { return x; })
      .map(function (id) { return { type: 'public-key', id: fromB64(id) }; });
  }
  function set(form, name, value) { form.querySelector('input[name="' + name + '"]').value = value || ''; }

  document.querySelectorAll('form[data-passkey]').forEach(function (form) {
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (!window.PublicKeyCredential || !navigator.credentials) {
        document.getElementById('passkey-unsupported').hidden = false;
        return;
      }
      var d = form.dataset;
      var answer;
      if (d.passkey === 'create') {
        answer = navigator.credentials.create({ publicKey: {
          challenge: fromB64(d.challenge),
          rp: { id: d.rpId, name: 'Kiroku' },
          user: { id: fromB64(d.userId), name: d.userName, displayName: d.displayName },
          pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -257 }],
          excludeCredentials: ids(d.exclude),
          authenticatorSelection: { userVerification: 'preferred', residentKey: 'discouraged' },
          attestation: 'none', timeout: 120000 } }).then(function (c) {
            set(form, 'clientDataJSON', toB64(c.response.clientDataJSON));
            set(form, 'attestationObject', toB64(c.response.attestationObject));
            set(form, 'transports', c.response.getTransports ? c.response.getTransports().join(',') : '');
          });
      } else {
        answer = navigator.credentials.get({ publicKey: {
          challenge: fromB64(d.challenge), rpId: d.rpId, allowCredentials: ids(d.credentials),
          userVerification: 'preferred', timeout: 120000 } }).then(function (c) {
            set(form, 'credentialId', toB64(c.rawId));
            set(form, 'clientDataJSON', toB64(c.response.clientDataJSON));
            set(form, 'authenticatorData', toB64(c.response.authenticatorData));
            set(form, 'signature', toB64(c.response.signature));
            set(form, 'userHandle', c.response.userHandle ? toB64(c.response.userHandle) : '');
          });
      }
      answer.then(function () { form.submit(); }, function () {
        document.getElementById('passkey-unsupported').hidden = false;
      });
    });
  });
}());
