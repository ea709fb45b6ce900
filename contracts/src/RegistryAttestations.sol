// SPDX-License-Identifier: EUPL-1.2
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IConsortium} from "IConsortium.sol";

/// @title Attestations of registry extracts (Registerauskünfte)
/// @notice A CLERK signs an attestation of a document by its SHA-256 (EIP-712); a GATEWAY of the
/// clerk's city relays it. Revocation and supersession are signed by a clerk of the issuing city.
/// Anyone can look up a document's status by its hash.
contract RegistryAttestations is EIP712 {
    struct Attestation {
        bytes32 documentHash; // sha256 of the file bytes
        bytes32 registerType; // e.g. "Melderegister", ASCII right-padded
        bytes32 subjectRef; // salted hash of the subject, never the clear name
        uint64 issuedAt; // unix seconds
        uint64 validUntil; // unix seconds, 0 = no expiry
        address clerk;
    }

    struct Revocation {
        bytes32 documentHash;
        uint16 reason;
        address clerk;
    }

    struct Supersession {
        bytes32 documentHash;
        bytes32 successorHash;
        uint16 reason;
        address clerk;
    }

    enum Status {
        Unknown,
        Valid,
        Expired,
        Revoked,
        Superseded
    }

    struct Record {
        bytes32 city;
        bytes32 registerType;
        bytes32 subjectRef;
        address clerk;
        uint64 issuedAt;
        uint64 validUntil;
        uint64 recordedAt;
        Status closedAs; // Revoked or Superseded once closed, else Unknown
        uint16 closeReason;
        address closedBy;
        uint64 closedAt;
        bytes32 successorHash;
    }

    bytes32 public constant ATTESTATION_TYPEHASH = keccak256(
        "Attestation(bytes32 documentHash,bytes32 registerType,bytes32 subjectRef,uint64 issuedAt,uint64 validUntil,address clerk)"
    );
    bytes32 public constant REVOCATION_TYPEHASH =
        keccak256("Revocation(bytes32 documentHash,uint16 reason,address clerk)");
    bytes32 public constant SUPERSESSION_TYPEHASH =
        keccak256("Supersession(bytes32 documentHash,bytes32 successorHash,uint16 reason,address clerk)");
    /// @notice How far a clerk's clock may run ahead of the chain's.
    uint64 public constant MAX_CLOCK_SKEW = 300;

    IConsortium public immutable consortium;
    mapping(bytes32 => Record) private _records;
    uint256 public attestationCount;

    event Attested(
        bytes32 indexed documentHash,
        bytes32 indexed city,
        address indexed clerk,
        bytes32 registerType,
        bytes32 subjectRef,
        uint64 issuedAt,
        uint64 validUntil,
        bytes32 digest
    );
    event Revoked(bytes32 indexed documentHash, bytes32 indexed city, address indexed clerk, uint16 reason);
    event Superseded(
        bytes32 indexed documentHash, bytes32 indexed successorHash, bytes32 indexed city, address clerk, uint16 reason
    );

    error NotAGateway(address sender);
    error BadSignature(address expectedSigner);
    error NotAClerk(address clerk);
    error WrongCity(bytes32 expected, bytes32 actual);
    error ZeroDocumentHash();
    error AlreadyAttested(bytes32 documentHash);
    error UnknownDocument(bytes32 documentHash);
    error NotOpen(bytes32 documentHash, Status status);
    error BadValidity(uint64 issuedAt, uint64 validUntil);
    error IssuedInFuture(uint64 issuedAt, uint64 chainTime);
    error MissingReason();
    error SelfSupersession(bytes32 documentHash);
    error SuccessorNotValid(bytes32 successorHash, Status status);

    constructor(IConsortium consortium_) EIP712("govchain-registry", "1") {
        consortium = consortium_;
    }

    function attest(Attestation calldata a, bytes calldata signature) external {
        bytes32 city = _relayFor(a.clerk);
        _requireSigned(keccak256(abi.encode(ATTESTATION_TYPEHASH, a)), signature, a.clerk);
        if (a.documentHash == bytes32(0)) revert ZeroDocumentHash();
        if (_records[a.documentHash].recordedAt != 0) revert AlreadyAttested(a.documentHash);
        if (a.validUntil != 0 && a.validUntil <= a.issuedAt) revert BadValidity(a.issuedAt, a.validUntil);
        if (a.issuedAt > block.timestamp + MAX_CLOCK_SKEW) revert IssuedInFuture(a.issuedAt, uint64(block.timestamp));
        Record storage r = _records[a.documentHash];
        r.city = city;
        r.registerType = a.registerType;
        r.subjectRef = a.subjectRef;
        r.clerk = a.clerk;
        r.issuedAt = a.issuedAt;
        r.validUntil = a.validUntil;
        r.recordedAt = uint64(block.timestamp);
        attestationCount += 1;
        emit Attested(
            a.documentHash, city, a.clerk, a.registerType, a.subjectRef, a.issuedAt, a.validUntil, hashAttestation(a)
        );
    }

    function revoke(Revocation calldata v, bytes calldata signature) external {
        if (v.reason == 0) revert MissingReason();
        Record storage r = _openRecordOfClerkCity(v.documentHash, v.clerk);
        _requireSigned(keccak256(abi.encode(REVOCATION_TYPEHASH, v)), signature, v.clerk);
        _close(r, Status.Revoked, v.reason, v.clerk, bytes32(0));
        emit Revoked(v.documentHash, r.city, v.clerk, v.reason);
    }

    /// @notice Marks a document as replaced by another one the same city has already attested.
    function supersede(Supersession calldata s, bytes calldata signature) external {
        if (s.reason == 0) revert MissingReason();
        if (s.successorHash == s.documentHash) revert SelfSupersession(s.documentHash);
        Record storage r = _openRecordOfClerkCity(s.documentHash, s.clerk);
        _requireSigned(keccak256(abi.encode(SUPERSESSION_TYPEHASH, s)), signature, s.clerk);
        Record storage successor = _records[s.successorHash];
        if (successor.recordedAt == 0) revert UnknownDocument(s.successorHash);
        if (successor.city != r.city) revert WrongCity(r.city, successor.city);
        Status successorStatus = _status(successor);
        if (successorStatus != Status.Valid) revert SuccessorNotValid(s.successorHash, successorStatus);
        _close(r, Status.Superseded, s.reason, s.clerk, s.successorHash);
        emit Superseded(s.documentHash, s.successorHash, r.city, s.clerk, s.reason);
    }

    function status(bytes32 documentHash) external view returns (Status) {
        return _status(_records[documentHash]);
    }

    function getAttestation(bytes32 documentHash) external view returns (Record memory record, Status current) {
        record = _records[documentHash];
        current = _status(record);
    }

    function hashAttestation(Attestation calldata a) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(ATTESTATION_TYPEHASH, a)));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _status(Record memory r) private view returns (Status) {
        if (r.recordedAt == 0) return Status.Unknown;
        if (r.closedAs != Status.Unknown) return r.closedAs;
        if (r.validUntil != 0 && block.timestamp > r.validUntil) return Status.Expired;
        return Status.Valid;
    }

    function _close(Record storage r, Status closedAs, uint16 reason, address clerk, bytes32 successor) private {
        r.closedAs = closedAs;
        r.closeReason = reason;
        r.closedBy = clerk;
        r.closedAt = uint64(block.timestamp);
        r.successorHash = successor;
    }

    /// @dev The document must be attested, not yet revoked or superseded, and `clerk` a CLERK of
    /// the issuing city, relayed by a GATEWAY of that city.
    function _openRecordOfClerkCity(bytes32 documentHash, address clerk) private view returns (Record storage r) {
        bytes32 city = _relayFor(clerk);
        r = _records[documentHash];
        if (r.recordedAt == 0) revert UnknownDocument(documentHash);
        if (r.city != city) revert WrongCity(r.city, city);
        if (r.closedAs != Status.Unknown) revert NotOpen(documentHash, r.closedAs);
    }

    /// @dev Returns the clerk's city after checking the clerk's role and the relaying gateway's city.
    function _relayFor(address clerk) private view returns (bytes32 city) {
        (bytes32 gatewayCity, IConsortium.Role gatewayRole,) = consortium.roleOf(msg.sender);
        if (gatewayRole != IConsortium.Role.GATEWAY) revert NotAGateway(msg.sender);
        IConsortium.Role clerkRole;
        (city, clerkRole,) = consortium.roleOf(clerk);
        if (clerkRole != IConsortium.Role.CLERK) revert NotAClerk(clerk);
        if (city != gatewayCity) revert WrongCity(city, gatewayCity);
    }

    function _requireSigned(bytes32 structHash, bytes calldata signature, address signer) private view {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(_hashTypedDataV4(structHash), signature);
        if (err != ECDSA.RecoverError.NoError || recovered != signer) revert BadSignature(signer);
    }
}
