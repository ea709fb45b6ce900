// SPDX-License-Identifier: EUPL-1.2
pragma solidity 0.8.30;

import {IConsortium} from "IConsortium.sol";

/// @title Consortium of the partner cities
/// @notice Member cities and their accounts (ADMIN, GATEWAY, CLERK, SCALE), the node certificates
/// and validators the network accepts, and the votes that change them. Each member city has one
/// vote; a proposal passes with the yes votes of more than half of the members.
/// @dev Deployable normally or pre-allocated in a genesis: the genesis helper runs this
/// constructor on a scratch chain and copies the resulting code and storage (see README).
contract Consortium is IConsortium {
    enum ProposalKind {
        AddMember,
        RemoveMember,
        AllowNode,
        RevokeNode,
        AddValidator,
        RemoveValidator,
        AdmitCity // membership, node certificate and validator of a new city in one vote
    }

    enum ProposalState {
        None,
        Open,
        Executed,
        Rejected,
        Failed
    }

    /// @notice Why a proposal cannot be made (or, at execution time, applied).
    enum Invalid {
        None,
        ZeroCity,
        AlreadyMember,
        NotAMember,
        ZeroAccount,
        AccountTaken,
        LastMember,
        ZeroFingerprint,
        NodeAlreadyAllowed,
        UnknownNode,
        AlreadyValidator,
        NotAValidator,
        LastValidator
    }

    struct Member {
        bool active;
        uint32 epoch; // bumped on each admission, so accounts of an earlier membership stay dead
    }

    struct Account {
        bytes32 city;
        Role role;
        uint32 epoch;
        uint64 calibrationValidUntil;
        bytes32 calibrationRef;
    }

    struct Proposal {
        ProposalKind kind;
        ProposalState state;
        uint64 deadline;
        uint32 yes;
        uint32 no;
        bytes32 proposerCity;
        bytes32 city;
        address account;
        bytes32 fingerprint;
    }

    uint64 public votingPeriod;
    mapping(bytes32 => Member) private _members;
    bytes32[] private _memberList;
    mapping(address => Account) private _accounts;
    mapping(bytes32 => bytes32) public nodeCity;
    bytes32[] private _nodeList;
    mapping(address => bytes32) public validatorCity;
    address[] private _validatorList;
    Proposal[] private _proposals;
    struct Ballot {
        bool cast;
        bool support;
        uint32 epoch; // the voter's membership epoch: a removed city's ballot stops counting
    }

    mapping(uint256 => mapping(bytes32 => Ballot)) private _ballots;
    mapping(uint256 => bytes32[]) private _voters;
    /// @notice The validator an AdmitCity proposal brings in (zero for none).
    mapping(uint256 => address) public admissionValidator;

    event MemberAdded(bytes32 indexed city, address admin);
    event MemberRemoved(bytes32 indexed city);
    event AccountSet(
        bytes32 indexed city, address indexed account, Role role, bytes32 calibrationRef, uint64 calibrationValidUntil
    );
    event AccountRemoved(bytes32 indexed city, address indexed account);
    event NodeAllowed(bytes32 indexed city, bytes32 indexed fingerprint);
    event NodeRevoked(bytes32 indexed city, bytes32 indexed fingerprint);
    event ValidatorAdded(bytes32 indexed city, address indexed validator);
    event ValidatorRemoved(bytes32 indexed city, address indexed validator);
    event ProposalCreated(
        uint256 indexed id,
        ProposalKind kind,
        bytes32 indexed proposerCity,
        bytes32 city,
        address account,
        bytes32 fingerprint,
        uint64 deadline
    );
    event AdmissionProposed(uint256 indexed id, bytes32 indexed city, address admin, bytes32 fingerprint, address validator);
    event VoteCast(uint256 indexed id, bytes32 indexed city, bool support, uint32 yes, uint32 no);
    event ProposalExecuted(uint256 indexed id);
    event ProposalRejected(uint256 indexed id);
    event ProposalFailed(uint256 indexed id, Invalid reason);

    error NotAnAdmin(address sender);
    error InvalidProposal(Invalid reason);
    error InvalidAccount(address account, string reason);
    error UnknownProposal(uint256 id);
    error ProposalClosed(uint256 id, ProposalState state);
    error ProposalExpired(uint256 id, uint64 deadline);
    error AlreadyVoted(uint256 id, bytes32 city);
    error BadFounding(string reason);

    struct FoundingCity {
        bytes32 city; // e.g. the ASCII name right-padded
        address admin; // the city's first ADMIN
        address validator; // zero for none
        bytes32 nodeFingerprint; // SHA-256 of the node's TLS certificate, zero for none
    }

    struct FoundingAccount {
        bytes32 city;
        address account;
        Role role;
        bytes32 calibrationRef;
        uint64 calibrationValidUntil;
    }

    constructor(FoundingCity[] memory cities, FoundingAccount[] memory accounts, uint64 votingPeriod_) {
        if (cities.length == 0) revert BadFounding("no cities");
        if (votingPeriod_ == 0) revert BadFounding("voting period is zero");
        votingPeriod = votingPeriod_;
        for (uint256 i = 0; i < cities.length; i++) {
            FoundingCity memory c = cities[i];
            Invalid why = _checkAddMember(c.city, c.admin);
            if (why != Invalid.None) revert InvalidProposal(why);
            _addMember(c.city, c.admin);
            if (c.validator != address(0)) {
                why = _check(ProposalKind.AddValidator, c.city, c.validator, 0, address(0));
                if (why != Invalid.None) revert InvalidProposal(why);
                _addValidator(c.city, c.validator);
            }
            if (c.nodeFingerprint != bytes32(0)) {
                why = _check(ProposalKind.AllowNode, c.city, address(0), c.nodeFingerprint, address(0));
                if (why != Invalid.None) revert InvalidProposal(why);
                _allowNode(c.city, c.nodeFingerprint);
            }
        }
        for (uint256 i = 0; i < accounts.length; i++) {
            FoundingAccount memory a = accounts[i];
            if (!_members[a.city].active) revert BadFounding("account of a city that is not founding");
            Account storage existing = _accounts[a.account];
            if (_isActive(existing) && existing.city == a.city) {
                revert BadFounding("account listed twice or a city's admin"); // (another city's: InvalidAccount)
            }
            _setAccount(a.city, a.account, a.role, a.calibrationRef, a.calibrationValidUntil);
        }
    }

    // ---------------------------------------------------------------- views

    function members() external view returns (bytes32[] memory) {
        return _memberList;
    }

    function memberCount() public view returns (uint256) {
        return _memberList.length;
    }

    function isMember(bytes32 city) public view returns (bool) {
        return _members[city].active;
    }

    function validators() external view returns (address[] memory) {
        return _validatorList;
    }

    function isValidator(address account) external view returns (bool) {
        return validatorCity[account] != bytes32(0);
    }

    function nodeFingerprints() external view returns (bytes32[] memory) {
        return _nodeList;
    }

    function nodeAllowed(bytes32 fingerprint) external view returns (bool) {
        bytes32 city = nodeCity[fingerprint];
        return city != bytes32(0) && _members[city].active;
    }

    function roleOf(address account) public view returns (bytes32 city, Role role, uint64 calibrationValidUntil) {
        Account storage a = _accounts[account];
        if (!_isActive(a)) return (bytes32(0), Role.NONE, 0);
        return (a.city, a.role, a.calibrationValidUntil);
    }

    /// @notice The full account record, including the calibration reference of a scale.
    function accountOf(address account) external view returns (Account memory record, bool active) {
        Account storage a = _accounts[account];
        return (a, _isActive(a));
    }

    function proposalCount() external view returns (uint256) {
        return _proposals.length;
    }

    function getProposal(uint256 id) external view returns (Proposal memory) {
        if (id >= _proposals.length) revert UnknownProposal(id);
        return _proposals[id];
    }

    /// @notice Only ADMIN and GATEWAY accounts of member cities may send transactions; only an
    /// ADMIN may create contracts; nobody moves ether on this network (gas is free).
    function transactionAllowed(
        address sender,
        address target,
        uint256 value,
        uint256, /* gasPrice */
        uint256, /* gasLimit */
        bytes calldata /* payload */
    ) external view returns (bool) {
        Account storage a = _accounts[sender];
        if (!_isActive(a) || value != 0) return false;
        if (a.role == Role.ADMIN) return true;
        return a.role == Role.GATEWAY && target != address(0);
    }

    // ---------------------------------------------------- city self-service

    /// @notice A city's ADMIN manages the accounts of its own city. A SCALE carries its calibration
    /// reference (e.g. the certificate number) and the unix time its calibration expires.
    function setAccount(address account, Role role, bytes32 calibrationRef, uint64 calibrationValidUntil) external {
        bytes32 city = _adminCity();
        if (account == msg.sender) revert InvalidAccount(account, "an admin cannot change its own account");
        _setAccount(city, account, role, calibrationRef, calibrationValidUntil);
    }

    function removeAccount(address account) external {
        bytes32 city = _adminCity();
        if (account == msg.sender) revert InvalidAccount(account, "an admin cannot change its own account");
        Account storage existing = _accounts[account];
        if (!_isActive(existing) || existing.city != city) revert InvalidAccount(account, "not an account of this city");
        delete _accounts[account];
        emit AccountRemoved(city, account);
    }

    // ------------------------------------------------------- governance

    /// @notice An ADMIN of a member city proposes a change; its city's yes vote is counted at once.
    /// @param city AddMember/RemoveMember/AllowNode/AddValidator/AdmitCity: the city concerned
    /// (ignored for RevokeNode and RemoveValidator, where it is looked up)
    /// @param account AddMember/AdmitCity: the new city's first ADMIN; Add/RemoveValidator: the validator
    /// @param fingerprint AllowNode/RevokeNode/AdmitCity: SHA-256 of the node's TLS certificate (DER)
    /// (zero for none with AdmitCity). AdmitCity here brings no validator: see proposeAdmission.
    function propose(ProposalKind kind, bytes32 city, address account, bytes32 fingerprint)
        external
        returns (uint256 id)
    {
        return _propose(kind, city, account, fingerprint, address(0));
    }

    /// @notice Admits a new city in one vote: its membership with its first ADMIN, its node's
    /// certificate fingerprint and its validator (either of the last two may be zero).
    function proposeAdmission(bytes32 city, address admin, bytes32 fingerprint, address validator)
        external
        returns (uint256 id)
    {
        return _propose(ProposalKind.AdmitCity, city, admin, fingerprint, validator);
    }

    function _propose(ProposalKind kind, bytes32 city, address account, bytes32 fingerprint, address validator)
        private
        returns (uint256 id)
    {
        bytes32 proposerCity = _adminCity();
        if (kind == ProposalKind.RevokeNode) city = nodeCity[fingerprint];
        if (kind == ProposalKind.RemoveValidator) city = validatorCity[account];
        Invalid why = _check(kind, city, account, fingerprint, validator);
        if (why != Invalid.None) revert InvalidProposal(why);
        id = _proposals.length;
        uint64 deadline = uint64(block.timestamp) + votingPeriod;
        _proposals.push(Proposal(kind, ProposalState.Open, deadline, 0, 0, proposerCity, city, account, fingerprint));
        emit ProposalCreated(id, kind, proposerCity, city, account, fingerprint, deadline);
        if (kind == ProposalKind.AdmitCity) {
            admissionValidator[id] = validator;
            emit AdmissionProposed(id, city, account, fingerprint, validator);
        }
        _vote(id, proposerCity, true);
    }

    function vote(uint256 id, bool support) external {
        bytes32 city = _adminCity();
        if (id >= _proposals.length) revert UnknownProposal(id);
        _vote(id, city, support);
    }

    function _vote(uint256 id, bytes32 city, bool support) private {
        Proposal storage p = _proposals[id];
        if (p.state != ProposalState.Open) revert ProposalClosed(id, p.state);
        if (block.timestamp > p.deadline) revert ProposalExpired(id, p.deadline);
        if (hasVoted(id, city)) revert AlreadyVoted(id, city);
        if (!_ballots[id][city].cast) _voters[id].push(city);
        _ballots[id][city] = Ballot(true, support, _members[city].epoch);
        (p.yes, p.no) = _count(id);
        emit VoteCast(id, city, support, p.yes, p.no);
        uint256 n = _memberList.length;
        if (uint256(p.yes) * 2 > n) {
            _execute(id, p);
        } else if (uint256(p.no) * 2 >= n) {
            p.state = ProposalState.Rejected;
            emit ProposalRejected(id);
        }
    }

    /// @notice Whether `city` has a ballot on proposal `id` from its current membership.
    function hasVoted(uint256 id, bytes32 city) public view returns (bool) {
        Ballot storage b = _ballots[id][city];
        return b.cast && _members[city].active && b.epoch == _members[city].epoch;
    }

    /// @dev Counts only the ballots of cities that are members now (in the epoch they voted in).
    function _count(uint256 id) private view returns (uint32 yes, uint32 no) {
        bytes32[] storage voters = _voters[id];
        for (uint256 i = 0; i < voters.length; i++) {
            if (!hasVoted(id, voters[i])) continue;
            if (_ballots[id][voters[i]].support) yes++;
            else no++;
        }
    }

    function _execute(uint256 id, Proposal storage p) private {
        // The world may have changed since the proposal was made (e.g. a competing proposal passed).
        address validator = admissionValidator[id];
        Invalid why = _check(p.kind, p.city, p.account, p.fingerprint, validator);
        if (why != Invalid.None) {
            p.state = ProposalState.Failed;
            emit ProposalFailed(id, why);
            return;
        }
        p.state = ProposalState.Executed;
        if (p.kind == ProposalKind.AddMember) _addMember(p.city, p.account);
        else if (p.kind == ProposalKind.RemoveMember) _removeMember(p.city);
        else if (p.kind == ProposalKind.AllowNode) _allowNode(p.city, p.fingerprint);
        else if (p.kind == ProposalKind.RevokeNode) _revokeNode(p.fingerprint);
        else if (p.kind == ProposalKind.AddValidator) _addValidator(p.city, p.account);
        else if (p.kind == ProposalKind.RemoveValidator) _removeValidator(p.account);
        else _admitCity(p.city, p.account, p.fingerprint, validator);
        emit ProposalExecuted(id);
    }

    function _check(ProposalKind kind, bytes32 city, address account, bytes32 fingerprint, address validator)
        private
        view
        returns (Invalid)
    {
        if (kind == ProposalKind.AddMember) return _checkAddMember(city, account);
        if (kind == ProposalKind.AdmitCity) {
            Invalid why = _checkAddMember(city, account);
            if (why != Invalid.None) return why;
            if (fingerprint != bytes32(0) && nodeCity[fingerprint] != bytes32(0)) return Invalid.NodeAlreadyAllowed;
            if (validator != address(0) && validatorCity[validator] != bytes32(0)) return Invalid.AlreadyValidator;
            return Invalid.None;
        }
        if (kind == ProposalKind.RemoveMember) {
            if (!_members[city].active) return Invalid.NotAMember;
            if (_memberList.length == 1) return Invalid.LastMember;
            if (_validatorList.length == 0) return Invalid.None;
            for (uint256 i = 0; i < _validatorList.length; i++) {
                if (validatorCity[_validatorList[i]] != city) return Invalid.None;
            }
            return Invalid.LastValidator; // the city holds every validator
        }
        if (kind == ProposalKind.AllowNode) {
            if (!_members[city].active) return Invalid.NotAMember;
            if (fingerprint == bytes32(0)) return Invalid.ZeroFingerprint;
            if (nodeCity[fingerprint] != bytes32(0)) return Invalid.NodeAlreadyAllowed;
            return Invalid.None;
        }
        if (kind == ProposalKind.RevokeNode) {
            return nodeCity[fingerprint] == bytes32(0) ? Invalid.UnknownNode : Invalid.None;
        }
        if (kind == ProposalKind.AddValidator) {
            if (!_members[city].active) return Invalid.NotAMember;
            if (account == address(0)) return Invalid.ZeroAccount;
            if (validatorCity[account] != bytes32(0)) return Invalid.AlreadyValidator;
            return Invalid.None;
        }
        if (validatorCity[account] == bytes32(0)) return Invalid.NotAValidator;
        if (_validatorList.length == 1) return Invalid.LastValidator;
        return Invalid.None;
    }

    function _checkAddMember(bytes32 city, address admin) private view returns (Invalid) {
        if (city == bytes32(0)) return Invalid.ZeroCity;
        if (_members[city].active) return Invalid.AlreadyMember;
        if (admin == address(0)) return Invalid.ZeroAccount;
        if (_isActive(_accounts[admin])) return Invalid.AccountTaken;
        return Invalid.None;
    }

    // ------------------------------------------------------------ effects

    function _setAccount(bytes32 city, address account, Role role, bytes32 calibrationRef, uint64 validUntil)
        private
    {
        if (account == address(0)) revert InvalidAccount(account, "zero address");
        if (role == Role.NONE) revert InvalidAccount(account, "role NONE: use removeAccount");
        if (role == Role.SCALE) {
            if (validUntil == 0) revert InvalidAccount(account, "scale without calibration expiry");
        } else if (validUntil != 0 || calibrationRef != bytes32(0)) {
            revert InvalidAccount(account, "calibration only applies to scales");
        }
        Account storage existing = _accounts[account];
        if (_isActive(existing) && existing.city != city) revert InvalidAccount(account, "account of another city");
        _accounts[account] = Account(city, role, _members[city].epoch, validUntil, calibrationRef);
        emit AccountSet(city, account, role, calibrationRef, validUntil);
    }

    function _addMember(bytes32 city, address admin) private {
        Member storage m = _members[city];
        m.active = true;
        m.epoch += 1;
        _memberList.push(city);
        _accounts[admin] = Account(city, Role.ADMIN, m.epoch, 0, bytes32(0));
        emit MemberAdded(city, admin);
        emit AccountSet(city, admin, Role.ADMIN, bytes32(0), 0);
    }

    /// @dev Removing a city also drops its node certificates and validators; its accounts die with
    /// its membership epoch.
    function _removeMember(bytes32 city) private {
        _members[city].active = false;
        _removeFromList(_memberList, city);
        for (uint256 i = _nodeList.length; i > 0; i--) {
            bytes32 fp = _nodeList[i - 1];
            if (nodeCity[fp] == city) _revokeNode(fp);
        }
        for (uint256 i = _validatorList.length; i > 0; i--) {
            address v = _validatorList[i - 1];
            if (validatorCity[v] == city) _removeValidator(v);
        }
        emit MemberRemoved(city);
    }

    function _admitCity(bytes32 city, address admin, bytes32 fingerprint, address validator) private {
        _addMember(city, admin);
        if (fingerprint != bytes32(0)) _allowNode(city, fingerprint);
        if (validator != address(0)) _addValidator(city, validator);
    }

    function _allowNode(bytes32 city, bytes32 fingerprint) private {
        nodeCity[fingerprint] = city;
        _nodeList.push(fingerprint);
        emit NodeAllowed(city, fingerprint);
    }

    function _revokeNode(bytes32 fingerprint) private {
        bytes32 city = nodeCity[fingerprint];
        delete nodeCity[fingerprint];
        _removeFromList(_nodeList, fingerprint);
        emit NodeRevoked(city, fingerprint);
    }

    function _addValidator(bytes32 city, address validator) private {
        validatorCity[validator] = city;
        _validatorList.push(validator);
        emit ValidatorAdded(city, validator);
    }

    function _removeValidator(address validator) private {
        bytes32 city = validatorCity[validator];
        delete validatorCity[validator];
        for (uint256 i = 0; i < _validatorList.length; i++) {
            if (_validatorList[i] == validator) {
                _validatorList[i] = _validatorList[_validatorList.length - 1];
                _validatorList.pop();
                break;
            }
        }
        emit ValidatorRemoved(city, validator);
    }

    // ------------------------------------------------------------ helpers

    function _isActive(Account storage a) private view returns (bool) {
        Member storage m = _members[a.city];
        return a.role != Role.NONE && m.active && m.epoch == a.epoch;
    }

    function _adminCity() private view returns (bytes32) {
        Account storage a = _accounts[msg.sender];
        if (a.role != Role.ADMIN || !_isActive(a)) revert NotAnAdmin(msg.sender);
        return a.city;
    }

    function _removeFromList(bytes32[] storage list, bytes32 item) private {
        for (uint256 i = 0; i < list.length; i++) {
            if (list[i] == item) {
                list[i] = list[list.length - 1];
                list.pop();
                return;
            }
        }
    }
}
