// SPDX-License-Identifier: EUPL-1.2
pragma solidity 0.8.30;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
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

    struct Role {
        bytes32 city;
        IConsortium.Role role;
        uint64 calibratedUntil;
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

    uint256 private constant _BATCH_COUNTER_KEY = 1 << 161;

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
    error NonCanonicalWeighing(bytes32 recordId);

    constructor(IConsortium consortium_) EIP712("govchain-weighing", "1") {
        consortium = consortium_;
    }

    /// @notice Records one weighing; reverts with WeighingInvalid(reason) if it is invalid.
    function submit(Weighing calldata w, bytes calldata signature) external {
        bytes32 city = _gatewayCity();
        (Weighing memory m, bytes32 digest) = _load(_buffer(), _domainSeparatorV4(), w);
        Reason reason = _record(city, digest, m, signature, _roleOf(m.scale));
        if (reason != Reason.None) revert WeighingInvalid(m.recordId, reason);
        recordCount += 1;
    }

    /// @notice Records every valid weighing of the batch; each invalid one emits WeighingRejected.
    /// @return accepted the number of weighings recorded
    function submitBatch(Weighing[] calldata ws, bytes[] calldata signatures) external returns (uint256 accepted) {
        if (ws.length != signatures.length) revert LengthMismatch(ws.length, signatures.length);
        bytes32 city = _gatewayCity();
        bytes32 separator = _domainSeparatorV4();
        uint256 batchId = _nextBatchId();
        uint256 buffer = _buffer();
        for (uint256 i = 0; i < ws.length; ++i) {
            (Weighing memory w, bytes32 digest) = _load(buffer, separator, ws[i]);
            Reason reason = _record(city, digest, w, signatures[i], _cachedRoleOf(w.scale, batchId));
            if (reason == Reason.None) ++accepted;
            else emit WeighingRejected(w.recordId, w.scale, reason);
        }
        recordCount += accepted;
    }

    /// @notice Dry run: what would happen to this weighing if the scale's city's gateway sent it now.
    function check(Weighing calldata w, bytes calldata signature) external view returns (Reason reason, bool seqGap) {
        (Weighing memory m, bytes32 digest) = _load(_buffer(), _domainSeparatorV4(), w);
        (reason,, seqGap) = _validate(bytes32(0), digest, m, signature, _roleOf(m.scale));
    }

    function getWeighing(bytes32 recordId) external view returns (Entry memory) {
        return _entries[recordId];
    }

    function isRecorded(bytes32 recordId) external view returns (bool) {
        return _entries[recordId].digest != bytes32(0);
    }

    /// @notice The EIP-712 digest a scale signs for this weighing.
    function hashWeighing(Weighing calldata w) public view returns (bytes32 digest) {
        (, digest) = _load(_buffer(), _domainSeparatorV4(), w);
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function _record(bytes32 gatewayCity, bytes32 digest, Weighing memory w, bytes calldata signature, Role memory role)
        private
        returns (Reason)
    {
        (Reason reason, bytes32 city, bool seqGap) = _validate(gatewayCity, digest, w, signature, role);
        if (reason != Reason.None) return reason;
        _entries[w.recordId] = Entry(digest, w.scale, w.seq, uint32(block.number));
        lastSeq[w.scale] = w.seq;
        emit WeighingRecorded(w.recordId, w.scale, city, w.seq, seqGap, digest);
        return Reason.None;
    }

    /// @param gatewayCity the submitting gateway's city, or zero to accept the scale's own city
    function _validate(
        bytes32 gatewayCity,
        bytes32 digest,
        Weighing memory w,
        bytes calldata signature,
        Role memory role
    ) private view returns (Reason reason, bytes32 city, bool seqGap) {
        if (_signer(digest, signature) != w.scale) return (Reason.BadSignature, 0, false);
        city = role.city;
        if (role.role != IConsortium.Role.SCALE) return (Reason.NotAScale, city, false);
        if (gatewayCity != bytes32(0) && city != gatewayCity) return (Reason.WrongCity, city, false);
        if (w.measuredAt / 1000 > role.calibratedUntil) return (Reason.CalibrationExpired, city, false);
        if (w.tareKg > w.grossKg || w.netKg != w.grossKg - w.tareKg) return (Reason.BadNetWeight, city, false);
        if (w.tareMode > 1) return (Reason.BadTareMode, city, false);
        if (w.recordId == bytes32(0)) return (Reason.ZeroRecordId, city, false);
        if (_entries[w.recordId].digest != bytes32(0)) return (Reason.DuplicateRecord, city, false);
        uint64 last = lastSeq[w.scale];
        if (w.seq <= last) return (Reason.SeqReplay, city, false);
        return (Reason.None, city, w.seq != last + 1);
    }

    /// @dev Room for the type hash and one Weighing, reused by every record of a call.
    function _buffer() private pure returns (uint256 buffer) {
        assembly ("memory-safe") {
            buffer := mload(0x40)
            mstore(0x40, add(buffer, 0x1e0))
        }
    }

    /// @dev Weighing is a static struct of 14 words: in calldata, in memory and in its EIP-712
    /// encoding they are laid out alike. One copy into `buffer` (after the type hash) gives both
    /// the struct and the bytes to hash, instead of Solidity's field-by-field decoding (the
    /// dominant cost of a batch in an interpreted EVM). Like the ABI decoder, it refuses values
    /// that do not fit their field, so the memory struct holds clean values only.
    function _load(uint256 buffer, bytes32 separator, Weighing calldata w)
        private
        pure
        returns (Weighing memory m, bytes32 digest)
    {
        bytes32 typeHash = WEIGHING_TYPEHASH;
        bool dirty;
        bytes32 structHash;
        assembly ("memory-safe") {
            m := add(buffer, 0x20)
            calldatacopy(m, w, 0x1c0)
            dirty := or(
                or(
                    or(shr(160, mload(add(m, 0x20))), shr(64, mload(add(m, 0x40)))),
                    or(shr(64, mload(add(m, 0x60))), gt(mload(add(m, 0x80)), 1))
                ),
                or(
                    or(shr(32, mload(add(m, 0xa0))), shr(32, mload(add(m, 0xc0)))),
                    or(
                        or(shr(32, mload(add(m, 0xe0))), shr(8, mload(add(m, 0x100)))),
                        or(shr(32, mload(add(m, 0x120))), shr(16, mload(add(m, 0x1a0))))
                    )
                )
            )
            mstore(buffer, typeHash)
            structHash := keccak256(buffer, 0x1e0)
        }
        if (dirty) revert NonCanonicalWeighing(m.recordId);
        digest = MessageHashUtils.toTypedDataHash(separator, structHash);
    }

    /// @return signer the recovered address, or zero for a malformed or malleable signature
    function _signer(bytes32 digest, bytes calldata signature) private pure returns (address signer) {
        if (signature.length != 65) return address(0);
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly ("memory-safe") {
            r := calldataload(signature.offset)
            s := calldataload(add(signature.offset, 0x20))
            v := byte(0, calldataload(add(signature.offset, 0x40)))
        }
        (signer,,) = ECDSA.tryRecover(digest, v, r, s);
    }

    function _roleOf(address account) private view returns (Role memory role) {
        (role.city, role.role, role.calibratedUntil) = consortium.roleOf(account);
    }

    /// @dev Numbers the batches of one transaction, so that a role cached by one batch is never
    /// used by the next (another call in the same transaction may have changed the Consortium).
    function _nextBatchId() private returns (uint256 batchId) {
        assembly ("memory-safe") {
            batchId := add(tload(_BATCH_COUNTER_KEY), 1)
            tstore(_BATCH_COUNTER_KEY, batchId)
        }
    }

    /// @dev A batch usually holds many records of the same few scales; their roles cannot change
    /// within one batch, so each is asked of the Consortium once (EIP-1153 transient storage, keyed
    /// by the scale address; the value carries the batch id it is valid for).
    function _cachedRoleOf(address scale, uint256 batchId) private returns (Role memory role) {
        uint256 packed;
        bytes32 city;
        uint256 cityKey = uint256(uint160(scale)) | (1 << 160);
        assembly ("memory-safe") {
            packed := tload(scale)
            city := tload(cityKey)
        }
        if (packed >> 72 == batchId) {
            return Role(city, IConsortium.Role(uint8(packed >> 64)), uint64(packed));
        }
        role = _roleOf(scale);
        packed = (batchId << 72) | (uint256(uint8(role.role)) << 64) | role.calibratedUntil;
        city = role.city;
        assembly ("memory-safe") {
            tstore(scale, packed)
            tstore(cityKey, city)
        }
    }

    function _gatewayCity() private view returns (bytes32 city) {
        IConsortium.Role role;
        (city, role,) = consortium.roleOf(msg.sender);
        if (role != IConsortium.Role.GATEWAY) revert NotAGateway(msg.sender);
    }
}
