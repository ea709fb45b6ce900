// SPDX-License-Identifier: EUPL-1.2
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IConsortium} from "IConsortium.sol";

/// @title Garbage-truck weighings signed by calibrated scales
/// @notice A GATEWAY of a city records weighings that a SCALE of the same city signed (EIP-712).
/// In a batch, an invalid item is skipped with a WeighingRejected event and never makes the
/// valid items fail. Only salted hashes of personal data (vehicle, container, customer) are kept.
contract WeighingLedger is EIP712 {
    struct Weighing {
        bytes32 recordId;
        address scale;
        uint64 seq; // per scale, starting at 1, +1 each record
        uint64 measuredAt; // unix milliseconds
        bool timeSynced;
        uint32 grossKg;
        uint32 tareKg;
        uint32 netKg;
        uint8 tareMode; // 0 measured, 1 stored
        uint32 avvCode; // waste code of the AVV, e.g. 200301
        bytes32 vehicleRef;
        bytes32 containerRef;
        bytes32 customerRef;
        uint16 statusFlags;
    }

    /// @notice Why a weighing was refused; emitted in WeighingRejected and WeighingInvalid.
    enum Reason {
        None,
        BadSignature,
        NotAScale,
        WrongCity,
        CalibrationExpired,
        BadNetWeight,
        BadTareMode,
        ZeroRecordId,
        DuplicateRecord,
        SeqReplay
    }

    struct Entry {
        bytes32 digest; // the EIP-712 digest the scale signed
        address scale;
        uint64 seq;
        uint32 blockNumber;
    }

    bytes32 public constant WEIGHING_TYPEHASH = keccak256(
        "Weighing(bytes32 recordId,address scale,uint64 seq,uint64 measuredAt,bool timeSynced,uint32 grossKg,"
        "uint32 tareKg,uint32 netKg,uint8 tareMode,uint32 avvCode,bytes32 vehicleRef,bytes32 containerRef,"
        "bytes32 customerRef,uint16 statusFlags)"
    );

    IConsortium public immutable consortium;
    mapping(bytes32 => Entry) private _entries;
    mapping(address => uint64) public lastSeq;
    uint256 public recordCount;

    event WeighingRecorded(
        bytes32 indexed recordId, address indexed scale, bytes32 indexed city, uint64 seq, bool seqGap, bytes32 digest
    );
    event WeighingRejected(bytes32 indexed recordId, address indexed scale, Reason reason);

    error NotAGateway(address sender);
    error WeighingInvalid(bytes32 recordId, Reason reason);
    error LengthMismatch(uint256 records, uint256 signatures);

    constructor(IConsortium consortium_) EIP712("govchain-weighing", "1") {
        consortium = consortium_;
    }

    /// @notice Records one weighing; reverts with WeighingInvalid(reason) if it is invalid.
    function submit(Weighing calldata w, bytes calldata signature) external {
        Reason reason = _record(_gatewayCity(), w, signature);
        if (reason != Reason.None) revert WeighingInvalid(w.recordId, reason);
    }

    /// @notice Records every valid weighing of the batch; each invalid one emits WeighingRejected.
    /// @return accepted the number of weighings recorded
    function submitBatch(Weighing[] calldata ws, bytes[] calldata signatures) external returns (uint256 accepted) {
        if (ws.length != signatures.length) revert LengthMismatch(ws.length, signatures.length);
        bytes32 city = _gatewayCity();
        for (uint256 i = 0; i < ws.length; i++) {
            Reason reason = _record(city, ws[i], signatures[i]);
            if (reason == Reason.None) accepted++;
            else emit WeighingRejected(ws[i].recordId, ws[i].scale, reason);
        }
    }

    /// @notice Dry run: what would happen to this weighing if the scale's city's gateway sent it now.
    function check(Weighing calldata w, bytes calldata signature) external view returns (Reason reason, bool seqGap) {
        (reason,, seqGap,) = _validate(bytes32(0), w, signature);
    }

    function getWeighing(bytes32 recordId) external view returns (Entry memory) {
        return _entries[recordId];
    }

    function isRecorded(bytes32 recordId) external view returns (bool) {
        return _entries[recordId].digest != bytes32(0);
    }

    /// @notice The EIP-712 digest a scale signs for this weighing.
    function hashWeighing(Weighing calldata w) public view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(WEIGHING_TYPEHASH, w)));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _record(bytes32 gatewayCity, Weighing calldata w, bytes calldata signature) private returns (Reason) {
        (Reason reason, bytes32 city, bool seqGap, bytes32 digest) = _validate(gatewayCity, w, signature);
        if (reason != Reason.None) return reason;
        _entries[w.recordId] = Entry(digest, w.scale, w.seq, uint32(block.number));
        lastSeq[w.scale] = w.seq;
        recordCount += 1;
        emit WeighingRecorded(w.recordId, w.scale, city, w.seq, seqGap, digest);
        return Reason.None;
    }

    /// @param gatewayCity the submitting gateway's city, or zero to accept the scale's own city
    function _validate(bytes32 gatewayCity, Weighing calldata w, bytes calldata signature)
        private
        view
        returns (Reason reason, bytes32 city, bool seqGap, bytes32 digest)
    {
        digest = hashWeighing(w);
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(digest, signature);
        if (err != ECDSA.RecoverError.NoError || signer != w.scale) return (Reason.BadSignature, 0, false, digest);
        IConsortium.Role role;
        uint64 calibratedUntil;
        (city, role, calibratedUntil) = consortium.roleOf(w.scale);
        if (role != IConsortium.Role.SCALE) return (Reason.NotAScale, city, false, digest);
        if (gatewayCity != bytes32(0) && city != gatewayCity) return (Reason.WrongCity, city, false, digest);
        if (w.measuredAt / 1000 > calibratedUntil) return (Reason.CalibrationExpired, city, false, digest);
        if (w.tareKg > w.grossKg || w.netKg != w.grossKg - w.tareKg) return (Reason.BadNetWeight, city, false, digest);
        if (w.tareMode > 1) return (Reason.BadTareMode, city, false, digest);
        if (w.recordId == bytes32(0)) return (Reason.ZeroRecordId, city, false, digest);
        if (_entries[w.recordId].digest != bytes32(0)) return (Reason.DuplicateRecord, city, false, digest);
        uint64 last = lastSeq[w.scale];
        if (w.seq <= last) return (Reason.SeqReplay, city, false, digest);
        return (Reason.None, city, w.seq != last + 1, digest);
    }

    function _gatewayCity() private view returns (bytes32 city) {
        IConsortium.Role role;
        (city, role,) = consortium.roleOf(msg.sender);
        if (role != IConsortium.Role.GATEWAY) revert NotAGateway(msg.sender);
    }
}
